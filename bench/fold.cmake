# Complaint fold: incremental and rebuild throughput vs raw RocksDB iteration (bench/RESULTS-fold.md).
add_executable(bench_fold ${CMAKE_CURRENT_SOURCE_DIR}/bench_fold.c)
target_link_libraries(bench_fold PRIVATE sp_node)
sp_bench_smoke(bench_fold)
