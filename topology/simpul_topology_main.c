/* A private driver for trying `simpul topology ...` without the node: simpul-topology check FILE.
 * The real entry point is node/cli/main.c, which calls sp_topology_cli_main() the same way. */
#include "topology/topology.h"

int main(int argc, char **argv) {
    static char name[] = "topology";
    argv[0] = name;
    return sp_topology_cli_main(argc, argv);
}
