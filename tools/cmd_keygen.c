/* `origo keygen`: creates an Ed25519 key file (mode 0600) and prints the
 * public key in the two forms operators paste elsewhere: hex for genesis
 * files and the C2SP verifier-key string for trust files. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "origo/error.h"
#include "origo/keys.h"

static void keygen_usage(FILE *out)
{
    fprintf(out, "usage: origo keygen --name NAME --out FILE [--force]\n"
                 "  --name NAME  key name (e.g. acme-cells or validator-1); no "
                 "spaces or '+'\n"
                 "  --out FILE   where to write the key file (mode 0600)\n"
                 "  --force      replace FILE if it exists\n"
                 "Prints the public key (hex) and its verifier-key string.\n");
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        {"name", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = NULL, *out = NULL;
    unsigned flags = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "n:o:fh", options, NULL)) != -1) {
        switch (opt) {
        case 'n':
            name = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            flags |= ORIGO_KEY_SAVE_OVERWRITE;
            break;
        case 'h':
            keygen_usage(stdout);
            return 0;
        default:
            keygen_usage(stderr);
            return 2;
        }
    }
    if (!name || !out || optind != argc) {
        keygen_usage(stderr);
        return 2;
    }
    origo_key *key = NULL;
    int rc = origo_key_generate(name, &key);
    if (rc) {
        cli_error("keygen",
                  "--name '%s': %s (expected non-empty text "
                  "without spaces, control characters or '+')",
                  name, origo_strerror(rc));
        return 2;
    }
    rc = origo_key_save(key, out, flags);
    if (rc) {
        cli_error("keygen", "%s: cannot write key file: %s%s", out,
                  origo_strerror(rc),
                  rc == ORIGO_E_EXISTS ? " (use --force to replace it)" : "");
        origo_key_free(key);
        return 2;
    }
    char hex[65], vkey[ORIGO_VKEY_MAX + 1];
    origo_pubkey_to_hex(origo_key_public(key), hex);
    rc = origo_key_vkey(key, vkey, sizeof(vkey), NULL);
    origo_key_free(key);
    if (rc) {
        cli_error("keygen", "cannot format verifier key: %s",
                  origo_strerror(rc));
        return 2;
    }
    printf("key file:     %s\npublic key:   %s\nverifier key: %s\n", out, hex,
           vkey);
    return 0;
}
