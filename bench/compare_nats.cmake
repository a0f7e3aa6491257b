# compare_nats: the same workload on NATS JetStream (nats-server, started by the bench) and on two
# Simpul nodes, in one run (issue 12). Needs the NATS C client (libnats-dev), a bench-only
# dependency; without it the program is not built. Its cnats CMake package names a static
# library Debian does not ship, so pkg-config is used.
pkg_check_modules(SP_NATS QUIET IMPORTED_TARGET libnats)
if(SP_NATS_FOUND)
  add_executable(compare_nats ${CMAKE_CURRENT_SOURCE_DIR}/compare_nats.c)
  target_link_libraries(compare_nats PRIVATE sp_broker sp_allocator PkgConfig::SP_NATS)
  sp_bench_smoke(compare_nats)
else()
  message(STATUS "bench/compare_nats not built: the NATS C client (libnats, Debian package "
                 "libnats-dev) was not found; deploy/install-deps.sh installs it")
endif()
