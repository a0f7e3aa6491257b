/*
 * Unit tests of the topology: the loader's diagnostics (one YAML snippet per error class, with
 * the exact file:line:col expected), the demo and the generated national topology, peers,
 * routing and its fallbacks. Fixtures live in tests/data/topology and deploy/topology; the
 * source tree is found through SP_SOURCE_DIR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"

/* Every snippet starts with a valid national node on lines 1-5 ... */
#define NATIONAL                                                                                   \
    "nodes:\n"                                                                                     \
    "  - id: national\n"                                                                           \
    "    kind: national\n"                                                                         \
    "    name: Kementerian PANRB\n"                                                                \
    "    address: tcp://national:7500\n"
/* ... and many add a province on lines 6-10. */
#define PROV35                                                                                     \
    "  - id: prov-35\n"                                                                            \
    "    kind: province\n"                                                                         \
    "    code: \"35\"\n"                                                                           \
    "    name: Jawa Timur\n"                                                                       \
    "    address: tcp://prov35:7500\n"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static char *source_path(const char *rel) {
    const char *root = getenv("SP_SOURCE_DIR");
    char *p = malloc(strlen(root ? root : ".") + strlen(rel) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", root ? root : ".", rel);
    return p;
}

static void print_diags(const sp_diag_list *d) {
    for (size_t i = 0; i < d->n_errors; i++)
        fprintf(stderr, "  got: %s\n", d->errors[i]);
}

/* ---- diagnostics: one case per error class ---- */

typedef struct diag_case {
    const char *name;
    const char *yaml;
    const char *errors[4]; /* exactly these, in this order */
} diag_case;

static const diag_case diag_cases[] = {
    {"unknown key",
     NATIONAL PROV35 "    colour: red\n",
     {"case.yaml:11:5: unknown key 'colour' in node (expected id, kind, code, name, parent, "
      "address, sign_key, seal_key, seal_keys, peers, timezone, sms_keywords)"}},
    {"unknown key, near a known one",
     NATIONAL "    adress: x\n",
     {"case.yaml:6:5: unknown key 'adress' in node (did you mean 'address'?)"}},
    {"wrong type",
     NATIONAL "  - id: prov-35\n    kind: province\n    code: \"35\"\n    name: {text: Jatim}\n"
              "    address: tcp://p:1\n",
     {"case.yaml:9:11: 'name' must be a string, not a mapping"}},
    {"wrong type of a list",
     NATIONAL PROV35 "    peers: national\n",
     {"case.yaml:11:12: 'peers' must be a sequence, not a string"}},
    {"duplicate id",
     NATIONAL PROV35 "  - id: prov-35\n    kind: province\n    code: \"33\"\n    name: Jateng\n"
                     "    address: tcp://p33:1\n",
     {"case.yaml:11:9: duplicate node id 'prov-35' (first defined at case.yaml:6:5)"}},
    {"unknown parent",
     NATIONAL "  - id: kota-3577\n    kind: kota\n    code: \"35.77\"\n    name: Kota Madiun\n"
              "    parent: prov-35\n    address: tcp://k:1\n",
     {"case.yaml:10:13: unknown parent 'prov-35' of node 'kota-3577'"}},
    {"parent cycle",
     NATIONAL "  - {id: opd-a, kind: opd, name: A, parent: opd-b, address: \"ipc:///a\"}\n"
              "  - {id: opd-b, kind: opd, name: B, parent: opd-a, address: \"ipc:///b\"}\n",
     {"case.yaml:6:45: parent cycle: opd-a -> opd-b -> opd-a"}},
    {"kind/parent mismatch",
     NATIONAL "  - id: kota-3577\n    kind: kota\n    code: \"35.77\"\n    name: Kota Madiun\n"
              "    parent: national\n    address: tcp://k:1\n",
     {"case.yaml:10:13: a kota's parent must be a province, but 'national' is the national "
      "node"}},
    {"regency outside its province",
     NATIONAL PROV35 "  - id: kota-3375\n    kind: kota\n    code: \"33.75\"\n"
                     "    name: Kota Pekalongan\n    parent: prov-35\n    address: tcp://k:1\n",
     {"case.yaml:13:11: kota code '33.75' is not in province 'prov-35' (code '35')"}},
    {"bad code format",
     NATIONAL "  - id: prov-35\n    kind: province\n    code: \"3\"\n    name: Jawa Timur\n"
              "    address: tcp://p:1\n",
     {"case.yaml:8:11: bad code '3' for a province: expected \"NN\" like \"35\""}},
    {"bad URL scheme",
     NATIONAL "  - {id: kemenkes, kind: ministry, name: Kemenkes, address: \"http://x:80\"}\n",
     {"case.yaml:6:61: bad address 'http://x:80': the scheme must be tls+tcp://, tcp://, "
      "ipc:// or inproc://"}},
    {"bad URL port",
     NATIONAL "  - {id: kemenkes, kind: ministry, name: Kemenkes, address: \"tls+tcp://x\"}\n",
     {"case.yaml:6:61: bad address 'tls+tcp://x': expected host:port after the scheme"}},
    {"missing key",
     NATIONAL "  - id: kemenkes\n    kind: ministry\n    address: tcp://k:1\n",
     {"case.yaml:6:5: node 'kemenkes' is missing required key 'name'"}},
    {"missing parent of a kota",
     NATIONAL "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, address: \"tcp://k:1\"}\n",
     {"case.yaml:6:5: node 'kota-3577' is missing required key 'parent'"}},
    {"route names an unknown agency",
     NATIONAL "routes:\n  - {category: kesehatan, agency: kemenkes}\n",
     {"case.yaml:7:35: routing rule names unknown agency 'kemenkes'"}},
    {"bad base64 key",
     NATIONAL "    sign_key: AAEC\n",
     {"case.yaml:6:15: bad sign_key: expected the standard base64 of 32 bytes (44 characters "
      "ending in '=')"}},
    {"duplicate SMS keyword",
     NATIONAL PROV35 "    sms_keywords: [JawaTimur]\n"
                     "  - {id: prov-33, kind: province, code: \"33\", name: Jateng, "
                     "address: \"tcp://p:2\", sms_keywords: [JAWATIMUR]}\n",
     {"case.yaml:12:98: SMS keyword 'JAWATIMUR' is already used by 'prov-35' (case.yaml:6:5)"}},
    {"two national nodes",
     NATIONAL "  - {id: pusat, kind: national, name: P, address: \"tcp://p:1\"}\n",
     {"case.yaml:6:23: a second national node 'pusat' (there must be exactly one; 'national' "
      "is at case.yaml:2:5)"}},
    {"no national node",
     "nodes:\n  - {id: prov-35, kind: province, code: \"35\", name: J, address: \"tcp://p:1\"}\n",
     {"case.yaml:1:1: no national node: exactly one node must have kind national"}},
    {"unknown kind",
     NATIONAL "  - {id: x, kind: kecamatan, name: X, address: \"tcp://x:1\"}\n",
     {"case.yaml:6:19: unknown kind 'kecamatan' (expected national, ministry, lembaga, "
      "province, kabupaten, kota or opd)"}},
    {"YAML syntax error",
     NATIONAL "  - id: [unclosed\n",
     {"case.yaml:7:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow "
      "sequence"}},
    {"alias refused",
     NATIONAL "  - &a {id: x, kind: lembaga, name: X, address: \"tcp://x:1\"}\n  - *a\n",
     {"case.yaml:7:5: aliases (*name) are not supported"}},
    {"include refused from memory",
     "include: [other.yaml]\n" NATIONAL,
     {"case.yaml:1:11: include is not supported in a topology read from memory"}},
    {"duplicate mapping key",
     NATIONAL "    name: Again\n",
     {"case.yaml:6:5: duplicate key 'name' (first at line 4)"}},
    {"ministry with a code",
     NATIONAL "  - {id: kemenkes, kind: ministry, code: \"35\", name: K, address: \"tcp://k:1\"}\n",
     {"case.yaml:6:42: a ministry has no region code"}},
    {"unknown peer",
     NATIONAL "    peers: [prov-99]\n",
     {"case.yaml:6:13: unknown peer 'prov-99' of node 'national'"}},
    {"duplicate route",
     NATIONAL "routes:\n  - {category: kesehatan, agency: national}\n"
              "  - {category: kesehatan, agency: national}\n",
     {"case.yaml:8:5: duplicate routing rule for 'kesehatan' in national (first at "
      "case.yaml:7:5)"}},
    {"route in an unknown region",
     NATIONAL "routes:\n  - {category: kesehatan, region: \"35.77\", agency: national}\n",
     {"case.yaml:7:35: routing rule names unknown region '35.77' (no province, kabupaten or "
      "kota has this code)"}},
    {"bad category",
     NATIONAL "routes:\n  - {category: Jalan Rusak, agency: national}\n",
     {"case.yaml:7:16: bad category 'Jalan Rusak': use \"*\" or lower-case words joined by "
      "'/', like \"infrastruktur/pju\""}},
    {"seal key id repeated",
     NATIONAL "    seal_keys:\n      - {id: 1, key: " KEY_A "}\n"
              "      - {id: 1, key: " KEY_A "}\n",
     {"case.yaml:8:14: duplicate seal key id 1"}},
    {"province code Indonesia does not have",
     NATIONAL "  - {id: prov-99, kind: province, code: \"99\", name: X, address: \"tcp://x:1\"}\n",
     {"case.yaml:6:41: unknown province code '99': add 'timezone' (WIB, WITA or WIT)"}},
    {"misspelt key: unknown key, and the key it meant is missing",
     NATIONAL "  - {id: bpom, kind: lembaga, name: BPOM, adress: \"tcp://b:1\"}\n",
     {"case.yaml:6:5: node 'bpom' is missing required key 'address'",
      "case.yaml:6:43: unknown key 'adress' in node (did you mean 'address'?)"}},
    {"SMS keyword reserved for the service's replies",
     NATIONAL PROV35 "    sms_keywords: [cek]\n",
     {"case.yaml:11:20: SMS keyword 'cek' is reserved for the 1708 replies (CEK, INFO, BANTUAN, "
      "PUAS, TIDAK): choose another"}},
    {"SMS keyword listed twice by one node",
     NATIONAL PROV35 "    sms_keywords: [Jatim, JATIM]\n",
     {"case.yaml:11:27: SMS keyword 'JATIM' is listed twice"}},
    {"invalid UTF-8",
     NATIONAL "  - {id: x, kind: lembaga, name: \"Caf\xe9\", address: \"tcp://x:1\"}\n",
     {"case.yaml:6:39: YAML syntax error: invalid trailing UTF-8 octet"}},
    {"top level is not a mapping",
     "- national\n",
     {"case.yaml:1:1: the top level must be a mapping with keys include, nodes and routes, not "
      "a sequence"}},
};

static void test_each_error_class_is_reported_at_its_position(void **state) {
    int failed = 0;
    for (size_t c = 0; c < sizeof diag_cases / sizeof diag_cases[0]; c++) {
        const diag_case *dc = &diag_cases[c];
        sp_topology *t = NULL;
        sp_diag_list d;
        sp_diag_list_init(&d);
        sp_err rv = sp_topology_load_buffer(&t, "case.yaml", dc->yaml, strlen(dc->yaml), &d);
        size_t want = 0;
        while (want < 4 && dc->errors[want])
            want++;
        int ok = rv == SP_ERR_CONFIG && t == NULL && d.n_errors == want;
        for (size_t i = 0; ok && i < want; i++)
            ok = strcmp(d.errors[i], dc->errors[i]) == 0;
        if (!ok) {
            fprintf(stderr, "case '%s': rv %s, %zu errors\n", dc->name, sp_errname(rv), d.n_errors);
            for (size_t i = 0; i < want; i++)
                fprintf(stderr, " want: %s\n", dc->errors[i]);
            print_diags(&d);
            failed++;
        }
        sp_topology_free(t);
        sp_diag_list_clear(&d);
    }
    assert_int_equal(failed, 0);
}

/* All errors of a run come back, sorted by file and position. */
static void test_all_errors_in_one_run(void **state) {
    static const char yaml[] =
        NATIONAL "  - {id: a, kind: kecamatan, name: A, address: \"tcp://a:1\"}\n"
                 "  - {id: b, kind: lembaga, name: B, address: \"ftp://b\"}\n"
                 "  - {id: c, kind: lembaga, name: C, address: \"tcp://c:1\", peers: [zz]}\n";
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(sp_topology_load_buffer(&t, "x.yaml", yaml, strlen(yaml), &d), SP_ERR_CONFIG);
    assert_null(t);
    assert_int_equal(d.n_errors, 3);
    assert_non_null(strstr(d.errors[0], "x.yaml:6:"));
    assert_non_null(strstr(d.errors[1], "x.yaml:7:"));
    assert_non_null(strstr(d.errors[2], "x.yaml:8:"));
    sp_diag_list_clear(&d);
}

static void test_included_file_errors_name_the_included_file(void **state) {
    char *path = source_path("tests/data/topology/include/root.yaml");
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(sp_topology_load(&t, path, &d), SP_ERR_CONFIG);
    assert_int_equal(d.n_errors, 1);
    const char *want = "/tests/data/topology/include/provinces/33.yaml:9:11: kota code '33.75' "
                       "is not in province 'prov-35' (code '35')";
    assert_non_null(strstr(d.errors[0], want));
    sp_diag_list_clear(&d);
    free(path);
}

static void test_include_cycle_and_missing_include_are_errors(void **state) {
    char *path = source_path("tests/data/topology/cycle/a.yaml");
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(sp_topology_load(&t, path, &d), SP_ERR_CONFIG);
    assert_int_equal(d.n_errors, 2);
    assert_non_null(strstr(d.errors[0], "cycle/b.yaml:2:5: include cycle: "));
    assert_non_null(strstr(d.errors[0], "cycle/a.yaml -> "));
    assert_non_null(strstr(d.errors[1], "cycle/b.yaml:3:5: cannot read included file"));
    sp_diag_list_clear(&d);
    free(path);
}

static void test_unreadable_root_is_an_io_error(void **state) {
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(sp_topology_load(&t, "/nonexistent/topology.yaml", &d), SP_ERR_IO);
    assert_null(t);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.errors[0],
                        "/nonexistent/topology.yaml: cannot read: No such file or directory");
    sp_diag_list_clear(&d);
    assert_int_equal(sp_topology_load(&t, NULL, NULL), SP_ERR_INVAL);
}

/* ---- the demo topology ---- */

static int load_demo(void **state) {
    char *path = source_path("tests/data/topology/demo.yaml");
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    sp_err rv = sp_topology_load(&t, path, &d);
    print_diags(&d);
    free(path);
    if (rv != SP_OK || d.n_warnings != 0) {
        sp_diag_list_clear(&d);
        sp_topology_free(t);
        return -1;
    }
    sp_diag_list_clear(&d);
    *state = t;
    return 0;
}

static int free_topology(void **state) {
    sp_topology_free(*state);
    return 0;
}

static void test_demo_loads_with_its_nodes(void **state) {
    const sp_topology *t = *state;
    assert_int_equal(sp_topology_count(t), 10);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_PROVINCE), 3);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_KOTA), 4);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_OPD), 1);
    assert_string_equal(sp_topology_national(t)->id, "national");
    const sp_topo_node *k = sp_topology_find(t, "kota-3577");
    assert_non_null(k);
    assert_int_equal(k->kind, SP_NODE_KOTA);
    assert_string_equal(k->code, "35.77");
    assert_string_equal(k->name, "Kota Madiun");
    assert_string_equal(k->parent->id, "prov-35");
    assert_true(k->has_sign_pub);
    assert_int_equal(k->timezone, SP_TZ_WIB);
    assert_int_equal(k->n_seal_keys, 2);
    assert_int_equal(sp_topo_node_seal_key(k)->id, 2);
    assert_non_null(sp_topo_node_seal_key_by_id(k, 1));
    assert_null(sp_topo_node_seal_key_by_id(k, 3));
    const sp_topo_node *opd = sp_topology_find(t, "opd-3577-pupr");
    assert_string_equal(opd->code, "35.77"); /* an OPD's code is its parent's */
    assert_ptr_equal(opd->parent, k);
    assert_null(sp_topology_find(t, "kota-9999"));
    assert_null(sp_topology_find(t, NULL));
}

static void test_find_by_code_and_keyword(void **state) {
    const sp_topology *t = *state;
    assert_string_equal(sp_topology_find_by_code(t, "35.77", SP_NODE_REGION)->id, "kota-3577");
    assert_string_equal(sp_topology_find_by_code(t, "35", SP_NODE_REGION)->id, "prov-35");
    assert_string_equal(sp_topology_find_by_code(t, "35.77", SP_NODE_OPD)->id, "opd-3577-pupr");
    assert_null(sp_topology_find_by_code(t, "35.77", SP_NODE_PROVINCE));
    assert_null(sp_topology_find_by_code(t, "36", SP_NODE_REGION));
    assert_string_equal(sp_topology_find_by_keyword(t, "kotamadiun")->id, "kota-3577");
    assert_string_equal(sp_topology_find_by_keyword(t, "PEKALONGANKOTA")->id, "kota-3375");
    assert_null(sp_topology_find_by_keyword(t, "KotaSurabaya"));
}

static int has_peer(const sp_topology *t, const char *id, const char *peer) {
    const sp_topo_node *out[16];
    size_t n = sp_topology_peers(t, id, out, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (strcmp(out[i]->id, peer) == 0) return 1;
    return 0;
}

static void test_peers_are_default_links_plus_symmetric_extras(void **state) {
    const sp_topology *t = *state;
    assert_true(has_peer(t, "kota-3577", "prov-35"));       /* parent */
    assert_true(has_peer(t, "kota-3577", "opd-3577-pupr")); /* child */
    assert_true(has_peer(t, "kemenkes", "national"));       /* ministry <-> national */
    assert_true(has_peer(t, "national", "kemenkes"));
    assert_true(has_peer(t, "prov-35", "prov-33")); /* extra, as listed */
    assert_true(has_peer(t, "prov-33", "prov-35")); /* extra, the other way */
    assert_false(has_peer(t, "kota-3577", "kota-3572"));
    /* national: kemenkes and three provinces, each once; cap limits the copy, not the count */
    const sp_topo_node *one[1];
    assert_int_equal(sp_topology_peers(t, "national", one, 1), 4);
    assert_string_equal(one[0]->id, "kemenkes");
    assert_int_equal(sp_topology_peers(t, "prov-35", NULL, 0), 4);
    assert_int_equal(sp_topology_peers(t, "nobody", NULL, 0), 0);
}

static void expect_route(const sp_topology *t, const char *category, const char *region,
                         const char *agency, const char *rule) {
    const sp_topo_node *a = NULL;
    const char *r = NULL;
    assert_int_equal(sp_topology_route(t, category, region, &a, &r), SP_OK);
    assert_string_equal(a->id, agency);
    assert_string_equal(r, rule);
}

static void test_routing_resolves_and_falls_back(void **state) {
    const sp_topology *t = *state;
    /* exact rule */
    expect_route(t, "infrastruktur/pju", "35.77", "opd-3577-pupr", "infrastruktur/pju@35.77");
    /* category falls back within the region before the region falls back */
    expect_route(t, "infrastruktur/jalan-provinsi", "35.77", "opd-3577-pupr",
                 "infrastruktur@35.77");
    /* region falls back to the province, then to national-level rules */
    expect_route(t, "infrastruktur/jalan-provinsi", "35.72", "prov-35",
                 "infrastruktur/jalan-provinsi@35");
    expect_route(t, "kesehatan/puskesmas", "35.77", "kemenkes", "kesehatan@national");
    expect_route(t, "kesehatan", NULL, "kemenkes", "kesehatan@national");
    /* no rule: the region's own government node */
    expect_route(t, "infrastruktur/pju", "35.72", "kota-3572", "default");
    expect_route(t, "pendidikan", "33", "prov-33", "default");
    expect_route(t, "pendidikan", "33.26", "prov-33", "default"); /* kabupaten not in demo */
    expect_route(t, "pendidikan", "", "national", "default");
    const sp_topo_node *a = NULL;
    assert_int_equal(sp_topology_route(t, "pendidikan", "36.01", &a, NULL), SP_ERR_NOT_FOUND);
    assert_int_equal(sp_topology_route(t, "pendidikan", "3577", &a, NULL), SP_ERR_INVAL);
    assert_int_equal(sp_topology_route(t, "Pendidikan", "35.77", &a, NULL), SP_ERR_INVAL);
    assert_int_equal(sp_topology_route(t, "a//b", "35.77", &a, NULL), SP_ERR_INVAL);
}

static void test_responsible_node_of_a_region(void **state) {
    const sp_topology *t = *state;
    assert_string_equal(sp_topology_responsible(t, "35.77")->id, "kota-3577");
    assert_string_equal(sp_topology_responsible(t, "35.19")->id, "prov-35");
    assert_string_equal(sp_topology_responsible(t, "13")->id, "prov-13");
    assert_string_equal(sp_topology_responsible(t, NULL)->id, "national");
    assert_null(sp_topology_responsible(t, "99"));
    assert_null(sp_topology_responsible(t, "35.7"));
}

static void test_routes_are_listed(void **state) {
    const sp_topology *t = *state;
    assert_int_equal(sp_topology_route_count(t), 4);
    const sp_topo_route *r = sp_topology_route_at(t, 0);
    assert_string_equal(r->category, "infrastruktur/pju");
    assert_string_equal(r->region, "35.77");
    assert_string_equal(r->agency->id, "opd-3577-pupr");
    assert_null(sp_topology_route_at(t, 4));
    assert_null(sp_topology_route_at(t, 2)->region);
}

/* ---- the generated national topology ---- */

static void test_national_topology_has_every_region(void **state) {
    char *path = source_path("deploy/topology/national.yaml");
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    sp_err rv = sp_topology_load(&t, path, &d);
    print_diags(&d);
    free(path);
    assert_int_equal(rv, SP_OK);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_NATIONAL), 1);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_PROVINCE), 38);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_KABUPATEN), 416);
    assert_int_equal(sp_topology_count_kind(t, SP_NODE_KOTA), 98);
    assert_true(sp_topology_count_kind(t, SP_NODE_MINISTRY) >= 30);
    for (size_t i = 0; i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        if (n->kind != SP_NODE_KABUPATEN && n->kind != SP_NODE_KOTA) continue;
        assert_int_equal(n->parent->kind, SP_NODE_PROVINCE);
        assert_memory_equal(n->parent->code, n->code, 2);
        assert_int_equal(n->timezone, n->parent->timezone);
        assert_int_equal(n->n_sms_keywords, 1);
    }
    const sp_topo_node *madiun = sp_topology_find(t, "kota-3577");
    assert_string_equal(madiun->name, "Kota Madiun");
    assert_string_equal(sp_topology_find(t, "kab-3505")->name, "Kabupaten Blitar");
    assert_string_equal(sp_topology_find(t, "prov-35")->name, "Jawa Timur");
    assert_ptr_equal(sp_topology_find_by_keyword(t, "KOTAMADIUN"), madiun);
    assert_string_equal(sp_topology_find_by_keyword(t, "KabBlitar")->id, "kab-3505");
    assert_int_equal(sp_topology_find(t, "prov-51")->timezone, SP_TZ_WITA);
    assert_int_equal(sp_topology_find(t, "kab-6401")->timezone, SP_TZ_WITA);
    assert_int_equal(sp_topology_find(t, "prov-94")->timezone, SP_TZ_WIT);
    assert_int_equal(sp_topology_find(t, "kota-1371")->timezone, SP_TZ_WIB);
    assert_true(has_peer(t, "kemenkes", "national"));
    assert_true(d.n_warnings > 0); /* no keys yet */
    sp_diag_list_clear(&d);
    sp_topology_free(t);
}

/* ---- small parts ---- */

static void test_keys_decode_to_raw_bytes(void **state) {
    static const char yaml[] = NATIONAL "    sign_key: " KEY_A "\n"
                                        "    seal_key: " KEY_A "\n";
    sp_topology *t = NULL;
    assert_int_equal(sp_topology_load_buffer(&t, "k.yaml", yaml, strlen(yaml), NULL), SP_OK);
    const sp_topo_node *n = sp_topology_national(t);
    uint8_t want[32];
    for (int i = 0; i < 32; i++)
        want[i] = (uint8_t)i;
    assert_true(n->has_sign_pub);
    assert_memory_equal(n->sign_pub, want, 32);
    assert_int_equal(n->n_seal_keys, 1);
    assert_int_equal(n->seal_keys[0].id, 1);
    assert_memory_equal(n->seal_keys[0].key, want, 32);
    sp_topology_free(t);
    /* the same key with non-zero padding bits is not the canonical spelling: refused */
    static const char bad[] =
        NATIONAL "    sign_key: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n";
    assert_int_equal(sp_topology_load_buffer(&t, "k.yaml", bad, strlen(bad), NULL), SP_ERR_CONFIG);
}

static void test_timezone_of_province_codes(void **state) {
    static const struct {
        const char *code;
        sp_timezone tz;
    } cases[] = {{"11", SP_TZ_WIB},  {"21", SP_TZ_WIB},  {"36.01", SP_TZ_WIB}, {"61", SP_TZ_WIB},
                 {"62", SP_TZ_WIB},  {"51", SP_TZ_WITA}, {"53", SP_TZ_WITA},   {"63", SP_TZ_WITA},
                 {"65", SP_TZ_WITA}, {"76", SP_TZ_WITA}, {"81", SP_TZ_WIT},    {"96", SP_TZ_WIT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sp_timezone tz;
        assert_int_equal(sp_timezone_for_code(cases[i].code, &tz), SP_OK);
        assert_int_equal(tz, cases[i].tz);
    }
    sp_timezone tz;
    assert_int_equal(sp_timezone_for_code("99", &tz), SP_ERR_NOT_FOUND);
    assert_int_equal(sp_timezone_for_code("9", &tz), SP_ERR_INVAL);
    assert_string_equal(sp_timezone_iana(SP_TZ_WIT), "Asia/Jayapura");
}

static void test_kind_names_round_trip(void **state) {
    for (int k = 0; k < SP_NODE__COUNT; k++) {
        sp_node_kind back;
        assert_int_equal(sp_node_kind_parse(sp_node_kind_name((sp_node_kind)k), &back), SP_OK);
        assert_int_equal(back, k);
    }
    sp_node_kind back;
    assert_int_equal(sp_node_kind_parse("kecamatan", &back), SP_ERR_INVAL);
    assert_string_equal(sp_node_kind_name(SP_NODE__COUNT), "?");
}

static void test_empty_buffer_is_invalid_not_a_crash(void **state) {
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    assert_int_equal(sp_topology_load_buffer(&t, "e.yaml", NULL, 0, &d), SP_ERR_CONFIG);
    assert_int_equal(d.n_errors, 1);
    assert_int_equal(d.n_warnings, 1);
    assert_string_equal(d.warnings[0], "e.yaml:1:1: warning: the file is empty");
    sp_diag_list_clear(&d);
    sp_diag_list_clear(NULL);
    sp_topology_free(NULL);
}

static int cli(const char *a1, const char *a2, const char *a3, const char *a4) {
    char *argv[6] = {(char *)"topology", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    return sp_topology_cli_main(argc, argv);
}

static void test_cli_exit_codes(void **state) {
    char *demo = source_path("tests/data/topology/demo.yaml");
    char *bad = source_path("tests/data/topology/cycle/a.yaml");
    assert_int_equal(cli("check", demo, NULL, NULL), 0);
    assert_int_equal(cli("check", bad, NULL, NULL), 1);
    assert_int_equal(cli("check", "/nonexistent.yaml", NULL, NULL), 1);
    assert_int_equal(cli("show", demo, "--node", "kota-3577"), 0);
    assert_int_equal(cli("show", demo, "--node", "nobody"), 1);
    assert_int_equal(cli("show", demo, NULL, NULL), 2);
    assert_int_equal(cli("dot", demo, NULL, NULL), 0);
    assert_int_equal(cli("check", "--help", NULL, NULL), 0);
    assert_int_equal(cli("frobnicate", NULL, NULL, NULL), 2);
    assert_int_equal(cli(NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cli("check", demo, "extra", NULL), 2);
    free(demo);
    free(bad);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_error_class_is_reported_at_its_position),
        cmocka_unit_test(test_all_errors_in_one_run),
        cmocka_unit_test(test_included_file_errors_name_the_included_file),
        cmocka_unit_test(test_include_cycle_and_missing_include_are_errors),
        cmocka_unit_test(test_unreadable_root_is_an_io_error),
        cmocka_unit_test_setup_teardown(test_demo_loads_with_its_nodes, load_demo, free_topology),
        cmocka_unit_test_setup_teardown(test_find_by_code_and_keyword, load_demo, free_topology),
        cmocka_unit_test_setup_teardown(test_peers_are_default_links_plus_symmetric_extras,
                                        load_demo, free_topology),
        cmocka_unit_test_setup_teardown(test_routing_resolves_and_falls_back, load_demo,
                                        free_topology),
        cmocka_unit_test_setup_teardown(test_responsible_node_of_a_region, load_demo,
                                        free_topology),
        cmocka_unit_test_setup_teardown(test_routes_are_listed, load_demo, free_topology),
        cmocka_unit_test(test_national_topology_has_every_region),
        cmocka_unit_test(test_keys_decode_to_raw_bytes),
        cmocka_unit_test(test_timezone_of_province_codes),
        cmocka_unit_test(test_kind_names_round_trip),
        cmocka_unit_test(test_empty_buffer_is_invalid_not_a_crash),
        cmocka_unit_test(test_cli_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
