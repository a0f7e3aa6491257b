add_executable(bench_log ${CMAKE_CURRENT_SOURCE_DIR}/bench_log.c)
target_link_libraries(bench_log PRIVATE sp_node)
sp_bench_smoke(bench_log)
