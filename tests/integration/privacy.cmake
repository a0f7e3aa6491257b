add_test(NAME privacy_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/privacy_test.py $<TARGET_FILE:simpul>)
set_tests_properties(privacy_test PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME sla_timer_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/sla_test.py $<TARGET_FILE:simpul>)
set_tests_properties(sla_timer_test PROPERTIES LABELS integration TIMEOUT 120)
