# Tracking numbers and the 1708 SMS loop on real nodes (the defects issue, items 2 and 7).
add_test(NAME tracking_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/tracking_test.py $<TARGET_FILE:simpul>)
set_tests_properties(tracking_test PROPERTIES LABELS integration TIMEOUT 180)
