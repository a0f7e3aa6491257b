# bench_replica: replication between real nodes over tcp loopback (issue 6): raw limit,
# end-to-end throughput, kota -> province -> national latency, catch-up of an empty node.
add_executable(bench_replica ${CMAKE_CURRENT_SOURCE_DIR}/bench_replica.c)
target_link_libraries(bench_replica PRIVATE sp_node)
sp_bench_smoke(bench_replica)
