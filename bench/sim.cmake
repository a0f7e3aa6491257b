# The national federation in one process: 600 nodes over NNG inproc (bench/sim_federation.c).
add_executable(sim_federation ${CMAKE_CURRENT_SOURCE_DIR}/sim_federation.c)
target_link_libraries(sim_federation PRIVATE sp_node)
target_compile_definitions(sim_federation PRIVATE SP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
sp_bench_smoke(sim_federation)
