# The national monitoring dashboard (issue 8): GET /api/v1/dashboard against a five-node
# federation, and the page at /dashboard/ rendered by headless Chromium (skipped, exit 77,
# when chromium is absent; deploy/install-deps.sh --browser installs it).
add_test(NAME dashboard_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/dashboard_test.py $<TARGET_FILE:simpul>)
set_tests_properties(dashboard_test PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME dashboard_browser_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/dashboard_test.py $<TARGET_FILE:simpul>
                 --browser)
set_tests_properties(dashboard_browser_test PROPERTIES LABELS "integration;browser" TIMEOUT 180
                     SKIP_RETURN_CODE 77)
