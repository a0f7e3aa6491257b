/*
 * simpul keygen --out DIR: a node's identity. node.key/node.pub sign envelopes (Ed25519);
 * seal.key/seal.pub receive sealed reporter identities and content keys (X25519).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/crypto.h"
#include "node/cli/cli.h"
#include "node/intake/seal.h"

static const char keygen_usage[] =
    "usage: simpul keygen --out DIR\n"
    "\n"
    "Create DIR (mode 0700) with a new node identity:\n"
    "  node.key  node.pub   Ed25519 signing key (private key mode 0600)\n"
    "  seal.key  seal.pub   X25519 sealing key (private key mode 0600)\n"
    "and print the base64 public keys to put in the topology. Refuses to overwrite\n"
    "existing keys.\n";

/* mkdir -p, the last component with mode 0700. Returns 0 or -1 with errno set. */
static int mkdir_parents(const char *dir) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return errno = ENAMETOOLONG, -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static const char *const key_files[] = {"node.key", "node.pub", "seal.key", "seal.pub"};

static int refuse_existing(const char *dir) {
    for (size_t i = 0; i < sizeof key_files / sizeof *key_files; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, key_files[i]);
        if (access(path, F_OK) == 0) {
            fprintf(stderr, "simpul keygen: %s already exists; refusing to overwrite\n", path);
            return 1;
        }
    }
    return 0;
}

/* Write DIR/NAME.key (0600) and DIR/NAME.pub; b64 receives the public key in base64. */
static int new_keypair(const char *dir, const char *name, sp_key_type type, char b64[64]) {
    char priv[4200], pub[4200];
    uint8_t raw[SP_PUBKEY_LEN];
    sp_key *k = NULL;
    snprintf(priv, sizeof priv, "%s/%s.key", dir, name);
    snprintf(pub, sizeof pub, "%s/%s.pub", dir, name);
    sp_err rv = sp_key_generate(&k, type);
    if (rv == SP_OK) rv = sp_key_save_private_pem(k, priv);
    if (rv == SP_OK) rv = sp_key_save_public_pem(k, pub);
    if (rv == SP_OK) rv = sp_key_raw_public(k, raw);
    sp_key_free(k);
    if (rv != SP_OK) return sp_cli_fail(priv, rv);
    sp_base64_encode(raw, SP_PUBKEY_LEN, b64);
    return SP_EXIT_OK;
}

static int write_pair(const char *dir, const char *name, sp_key_type type) {
    char b64[64];
    int rc = new_keypair(dir, name, type, b64);
    if (rc == SP_EXIT_OK) printf("%s: %s\n", type == SP_KEY_ED25519 ? "sign_key" : "seal_key", b64);
    return rc;
}

int sp_cli_keygen(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'o') dir = optarg;
        else if (c == 'h') return fputs(keygen_usage, stdout), SP_EXIT_OK;
        else return fputs(keygen_usage, stderr), SP_EXIT_USAGE;
    }
    if (!dir || optind != argc) return fputs(keygen_usage, stderr), SP_EXIT_USAGE;
    if (mkdir_parents(dir) != 0) {
        fprintf(stderr, "simpul keygen: cannot create %s: %s\n", dir, strerror(errno));
        return SP_EXIT_ERROR;
    }
    if (refuse_existing(dir)) return SP_EXIT_ERROR;
    int rc = write_pair(dir, "node", SP_KEY_ED25519);
    if (rc == SP_EXIT_OK) rc = write_pair(dir, "seal", SP_KEY_X25519);
    if (rc == SP_EXIT_OK) fprintf(stderr, "keys written to %s\n", dir);
    return rc;
}

/* ---- simpl keys rotate ---- */

static const char keys_usage[] =
    "usage: simpul keys rotate --keys DIR\n"
    "\n"
    "Create the node's next sealing key (DIR/seal-<n>.key, mode 0600, and seal-<n>.pub) and print\n"
    "the line to add under the node's seal_keys: in the topology. Old sealing keys stay in DIR:\n"
    "they still open what was sealed to them. New boxes use the new key once the topology lists\n"
    "it and the nodes have reloaded it. Restart this node to load the new key.\n";

static int rotate(const char *dir) {
    sp_seal_keyring ring;
    sp_err rv = sp_seal_keyring_load(&ring, dir);
    uint32_t current = 0;
    if (rv == SP_OK) sp_seal_keyring_current(&ring, &current);
    sp_seal_keyring_clear(&ring);
    if (rv != SP_OK) return sp_cli_fail(dir, rv);
    char name[32], b64[64];
    snprintf(name, sizeof name, "seal-%u", current + 1);
    int rc = new_keypair(dir, name, SP_KEY_X25519, b64);
    if (rc != SP_EXIT_OK) return rc;
    printf("- {id: %u, key: %s}\n", current + 1, b64);
    fprintf(stderr, "new sealing key %u written to %s/%s.key; add the line above to seal_keys:\n",
            current + 1, dir, name);
    return SP_EXIT_OK;
}

int sp_cli_keys(int argc, char **argv) {
    static const struct option opts[] = {{"keys", required_argument, NULL, 'k'}, {0}};
    if (sp_cli_wants_help(argc, argv)) return fputs(keys_usage, stdout), SP_EXIT_OK;
    if (argc < 2 || strcmp(argv[1], "rotate") != 0) return fputs(keys_usage, stderr), SP_EXIT_USAGE;
    const char *dir = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        if (c == 'k') dir = optarg;
        else return fputs(keys_usage, stderr), SP_EXIT_USAGE;
    }
    if (!dir || optind != argc - 1) return fputs(keys_usage, stderr), SP_EXIT_USAGE;
    return rotate(dir);
}
