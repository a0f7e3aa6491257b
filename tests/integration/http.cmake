# The HTTP API against real nodes (issue 7): every route, channel and error; a complaint
# handled to "resolved" and seen at national; restart.
add_test(NAME http_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/http_test.py $<TARGET_FILE:simpul>)
set_tests_properties(http_test PROPERTIES LABELS integration TIMEOUT 180)
# A node killed with SIGKILL at random moments under concurrent intake and replication (issue
# 13): 5 rounds here; `crash_node_test.py SIMPUL --rounds 100` is the run docs/reliability.md reports.
add_test(NAME crash_node_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/crash_node_test.py $<TARGET_FILE:simpul>)
set_tests_properties(crash_node_test PROPERTIES LABELS integration TIMEOUT 300)
# HTTPS served by the node itself (issue 13).
add_test(NAME https_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/https_test.py $<TARGET_FILE:simpul>)
set_tests_properties(https_test PROPERTIES LABELS integration TIMEOUT 120)
# Per-client rate limits with 429 and Retry-After (issue 13).
add_test(NAME ratelimit_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/ratelimit_test.py $<TARGET_FILE:simpul>)
set_tests_properties(ratelimit_test PROPERTIES LABELS integration TIMEOUT 120)
# Hostile clients at the HTTP, peer, stream and replay ports of a running node (issue 13).
add_test(NAME hostile_ports_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/hostile_ports_test.py $<TARGET_FILE:simpul>)
set_tests_properties(hostile_ports_test PROPERTIES LABELS integration TIMEOUT 180)
# A real partition in network namespaces made by the test (SIGSTOP where not permitted), cut,
# filed and handled on both sides, healed: identical state and statistics (issue 13).
add_test(NAME partition_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/partition_test.py $<TARGET_FILE:simpul>)
set_tests_properties(partition_test PROPERTIES LABELS integration TIMEOUT 240)
# Open311 GeoReport v2 against the specification's example shapes, JSON and XML (issue 14).
add_test(NAME open311_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/open311_test.py $<TARGET_FILE:simpul>)
set_tests_properties(open311_test PROPERTIES LABELS integration TIMEOUT 120)
# The channel adapters end to end: WhatsApp, X, 112, e-mail; channel in stats, lists, topics;
# no reporter identity in any file (issue 14).
add_test(NAME channel_adapters_test
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/channel_adapters_test.py $<TARGET_FILE:simpul>)
set_tests_properties(channel_adapters_test PROPERTIES LABELS integration TIMEOUT 180)
# The stream read by stock tools (issue 15): nngcat, Python with python3-protobuf over ws://,
# tail --cursor after SIGTERM and SIGKILL, a slow subscriber repaired by replay. Debian's own
# python3, which sees python3-protobuf (a pyenv interpreter first in PATH would not).
add_test(NAME stream_interop_test
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/stream_interop_test.py $<TARGET_FILE:simpul>)
set_tests_properties(stream_interop_test PROPERTIES LABELS integration TIMEOUT 300)
# libsimpul-stream installed and used as an integrator would (issue 15).
if(TARGET simpul-stream)
  add_test(NAME stream_client_test
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/stream_client_test.sh $<TARGET_FILE:simpul>
                   ${CMAKE_BINARY_DIR})
  set_tests_properties(stream_client_test PROPERTIES LABELS integration TIMEOUT 120)
endif()
