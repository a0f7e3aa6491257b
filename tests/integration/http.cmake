# The HTTP API against real nodes (issue 7): every route, channel and error; a complaint
# handled to "resolved" and seen at national; restart.
add_test(NAME http_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/http_test.py $<TARGET_FILE:simpul>)
set_tests_properties(http_test PROPERTIES LABELS integration TIMEOUT 180)
