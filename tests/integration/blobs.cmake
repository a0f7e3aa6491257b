# Attachments across the federation (defect 5): the OPD a complaint is dispositioned to and
# national fetch its attachments from the intake node; a node not entitled does not; Open311's
# media_url is fetchable; blob_probe checks the serving side's refusals on a real node.
add_executable(blob_probe ${CMAKE_CURRENT_SOURCE_DIR}/integration/blob_probe.c)
target_link_libraries(blob_probe PRIVATE sp_node)
add_test(NAME blob_federation_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/blob_federation_test.py
                 $<TARGET_FILE:simpul> $<TARGET_FILE:blob_probe>)
set_tests_properties(blob_federation_test PROPERTIES LABELS integration TIMEOUT 240)
# sp_replicator_ask, which carries the fetch: any node, counting, timeouts, stop, a full queue.
sp_test(NAME blob_ask_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/blob_ask_test.c
        LIBS sp_broker LABELS "integration;sanitize" TIMEOUT 60)
