/*
 * `simpul topology check|show|dot`: the tools a regional IT team uses while editing its part of
 * the federation. Results go to stdout, diagnostics to stderr, and the exit status says what
 * happened: 0 ok, 1 invalid topology or unreadable file, 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define DEFAULT_MAX_WARNINGS 10

static const char usage_main[] =
    "usage: simpul topology <command> [options]\n"
    "\n"
    "commands:\n"
    "  check FILE            validate FILE and the files it includes, print a summary\n"
    "  show FILE --node ID   print one node, its peers and the routes that concern it\n"
    "  dot FILE              print the topology as a Graphviz graph\n"
    "\n"
    "Run 'simpul topology <command> --help' for a command's options.\n";

static const char usage_check[] =
    "usage: simpul topology check FILE [--all-warnings]\n"
    "\n"
    "Loads FILE and every file it includes, prints each error and warning as\n"
    "file:line:col: message on stderr (at most 10 warnings unless --all-warnings),\n"
    "and a summary on stdout: nodes per kind, links, routes, warnings.\n"
    "Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n";

static const char usage_show[] =
    "usage: simpul topology show FILE --node ID\n"
    "\n"
    "Prints node ID of the topology in FILE: its fields, its peers (parent, children,\n"
    "extra peers) and the routing rules that name it or its region.\n"
    "Exit status: 0 ok, 1 invalid topology or unknown node, 2 usage error.\n";

static const char usage_dot[] =
    "usage: simpul topology dot FILE\n"
    "\n"
    "Prints the topology in FILE as an undirected Graphviz graph: one vertex per node,\n"
    "solid edges for parent links, dashed edges for extra peers. For example:\n"
    "  simpul topology dot demo.yaml | dot -Tsvg -o demo.svg\n";

typedef struct args {
    const char *file;
    const char *node;
    int all_warnings;
    int help;
} args;

/* Parses FILE and options after the command name. Returns 0, or 2 after printing why. */
static int parse_args(int argc, char **argv, const char *usage, args *a) {
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(s, "--all-warnings") == 0 && usage == usage_check) {
            a->all_warnings = 1;
        } else if (strcmp(s, "--node") == 0 && usage == usage_show && i + 1 < argc) {
            a->node = argv[++i];
        } else if (strncmp(s, "--node=", 7) == 0 && usage == usage_show) {
            a->node = s + 7;
        } else if (s[0] == '-' || a->file) {
            fprintf(stderr, "simpul topology %s: unexpected argument '%s'\n%s", argv[1], s, usage);
            return EXIT_USAGE;
        } else {
            a->file = s;
        }
    }
    if (a->help) return 0;
    if (!a->file || (usage == usage_show && !a->node)) {
        fprintf(stderr, "%s", usage);
        return EXIT_USAGE;
    }
    return 0;
}

/* Loads a topology, printing its errors and up to max_warnings warnings (0: none, and no
 * count of them either). Returns NULL when it does not load. */
static sp_topology *load(const char *file, size_t max_warnings, size_t *n_warnings) {
    sp_diag_list diags;
    sp_topology *t = NULL;
    sp_diag_list_init(&diags);
    sp_err rv = sp_topology_load(&t, file, &diags);
    if (max_warnings)
        sp_diag_list_print(&diags, stderr, max_warnings);
    else /* show and dot: only what stops them */
        for (size_t i = 0; i < diags.n_errors; i++)
            fprintf(stderr, "%s\n", diags.errors[i]);
    if (rv != SP_OK)
        fprintf(stderr, "%s: %s: %zu error%s, %zu warning%s\n", file,
                rv == SP_ERR_CONFIG ? "invalid topology" : sp_strerror(rv), diags.n_errors,
                diags.n_errors == 1 ? "" : "s", diags.n_warnings, diags.n_warnings == 1 ? "" : "s");
    if (n_warnings) *n_warnings = diags.n_warnings;
    sp_diag_list_clear(&diags);
    return t;
}

static int cmd_check(const args *a) {
    size_t n_warnings = 0;
    sp_topology *t = load(a->file, a->all_warnings ? SIZE_MAX : DEFAULT_MAX_WARNINGS, &n_warnings);
    if (!t) return EXIT_INVALID;
    size_t links = 0, extra = 0;
    for (size_t i = 0; i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        for (size_t k = 0; k < n->n_peers; k++) {
            const sp_topo_node *p = n->peers[k];
            if (p <= n) continue; /* count each link once */
            links++;
            extra += p->parent != n && n->parent != p;
        }
    }
    printf("%s: valid topology\n", a->file);
    printf("nodes:    %zu\n", sp_topology_count(t));
    for (int k = 0; k < SP_NODE__COUNT; k++)
        printf("  %-10s %zu\n", sp_node_kind_name((sp_node_kind)k),
               sp_topology_count_kind(t, (sp_node_kind)k));
    printf("links:    %zu (%zu parent-child, %zu extra)\n", links, links - extra, extra);
    printf("routes:   %zu\n", sp_topology_route_count(t));
    printf("warnings: %zu\n", n_warnings);
    sp_topology_free(t);
    return 0;
}

static const char *relation(const sp_topo_node *n, const sp_topo_node *p) {
    if (n->parent == p) return "parent";
    if (p->parent == n) return "child";
    return "extra peer";
}

static void show_keys(const sp_topo_node *n) {
    const sp_seal_key *cur = sp_topo_node_seal_key(n);
    printf("sign_key:  %s\n", n->has_sign_pub ? "present" : "none");
    if (cur)
        printf("seal keys: %zu (current id %u)\n", n->n_seal_keys, (unsigned)cur->id);
    else
        printf("seal keys: none\n");
}

static void show_routes(const sp_topology *t, const sp_topo_node *n) {
    size_t shown = 0;
    printf("routes:\n");
    for (size_t i = 0; i < sp_topology_route_count(t); i++) {
        const sp_topo_route *r = sp_topology_route_at(t, i);
        int handles = r->agency == n;
        int here = n->code && r->region && strcmp(r->region, n->code) == 0;
        if (!handles && !here) continue;
        printf("  %-32s -> %-24s %s:%u\n", r->label, r->agency->id, r->file, (unsigned)r->line);
        shown++;
    }
    if (!shown) printf("  (none: complaints in its region default to its region's node)\n");
}

static int cmd_show(const args *a) {
    sp_topology *t = load(a->file, 0, NULL);
    if (!t) return EXIT_INVALID;
    const sp_topo_node *n = sp_topology_find(t, a->node);
    if (!n) {
        fprintf(stderr, "%s: no node '%s'\n", a->file, a->node);
        sp_topology_free(t);
        return EXIT_INVALID;
    }
    printf("id:        %s\nkind:      %s\nname:      %s\n", n->id, sp_node_kind_name(n->kind),
           n->name);
    if (n->code) printf("code:      %s\n", n->code);
    if (n->parent) printf("parent:    %s (%s)\n", n->parent->id, n->parent->name);
    printf("address:   %s\n", n->address);
    printf("timezone:  %s (%s)\n", sp_timezone_name(n->timezone), sp_timezone_iana(n->timezone));
    show_keys(n);
    for (size_t i = 0; i < n->n_sms_keywords; i++)
        printf("%s%s", i ? ", " : "sms:       ", n->sms_keywords[i]);
    if (n->n_sms_keywords) printf("\n");
    printf("defined:   %s:%u:%u\n", n->file, (unsigned)n->line, (unsigned)n->col);
    printf("peers (%zu):\n", n->n_peers);
    for (size_t i = 0; i < n->n_peers; i++) {
        const sp_topo_node *p = n->peers[i];
        printf("  %-24s %-10s %-11s %s\n", p->id, sp_node_kind_name(p->kind), relation(n, p),
               p->address);
    }
    show_routes(t, n);
    sp_topology_free(t);
    return 0;
}

/* Writes s as the inside of a DOT double-quoted string. */
static void dot_escape(const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
}

static const char *const dot_colors[SP_NODE__COUNT] = {
    "#e76f51", "#f4a261", "#e9c46a", "#2a9d8f", "#8ab17d", "#a8dadc", "#dddddd",
};

static int cmd_dot(const args *a) {
    sp_topology *t = load(a->file, 0, NULL);
    if (!t) return EXIT_INVALID;
    printf("graph simpul {\n  graph [overlap=false];\n"
           "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n");
    for (size_t i = 0; i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        printf("  \"%s\" [label=\"", n->id);
        dot_escape(n->name);
        printf("\\n%s%s%s\", fillcolor=\"%s\"];\n", n->id, n->code ? " " : "",
               n->code ? n->code : "", dot_colors[n->kind]);
    }
    for (size_t i = 0; i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        for (size_t k = 0; k < n->n_peers; k++) {
            const sp_topo_node *p = n->peers[k];
            if (p <= n) continue;
            int extra = p->parent != n && n->parent != p;
            printf("  \"%s\" -- \"%s\"%s;\n", n->id, p->id, extra ? " [style=dashed]" : "");
        }
    }
    printf("}\n");
    sp_topology_free(t);
    return 0;
}

int sp_topology_cli_main(int argc, char **argv) {
    static const struct {
        const char *name;
        const char *usage;
        int (*run)(const args *a);
    } cmds[] = {{"check", usage_check, cmd_check},
                {"show", usage_show, cmd_show},
                {"dot", usage_dot, cmd_dot}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0) continue;
        args a = {0};
        int rc = parse_args(argc, argv, cmds[i].usage, &a);
        if (rc) return rc;
        if (a.help) {
            fputs(cmds[i].usage, stdout);
            return 0;
        }
        return cmds[i].run(&a);
    }
    fprintf(stderr, "simpul topology: unknown command '%s'\n%s", argv[1], usage_main);
    return EXIT_USAGE;
}
