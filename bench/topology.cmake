# bench_topology: load and validate the national topology (time, heap, peak RSS).
add_executable(bench_topology ${CMAKE_CURRENT_SOURCE_DIR}/bench_topology.c)
target_link_libraries(bench_topology PRIVATE sp_topology)
target_compile_definitions(bench_topology PRIVATE SP_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
sp_bench_smoke(bench_topology)
