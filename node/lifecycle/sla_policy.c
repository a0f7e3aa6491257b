/*
 * The regulation's default SLA policy (node/lifecycle/sla_policy.h).
 */
#include "node/lifecycle/sla_policy.h"

#include <stddef.h>

#define WD(n) {n, SP_SPAN_WORKING}
#define CD(n) {n, SP_SPAN_CALENDAR}
#define DEFAULTS(complete) {WD(3), WD(3), WD(5), WD(10), complete}
const sp_sla_policy sp_sla_default_policy = {{
    DEFAULTS(CD(60)), /* default slot */
    DEFAULTS(CD(60)), /* aspirasi */
    DEFAULTS(CD(60)), /* pengaduan */
    DEFAULTS(WD(10)), /* permintaan informasi */
}};
#undef DEFAULTS
#undef CD
#undef WD

void sp_sla_policy_default(sp_sla_policy *p) {
    *p = sp_sla_default_policy;
}

sp_sla_span sp_sla_policy_get(const sp_sla_policy *p, uint32_t type, sp_sla_kind kind) {
    if (kind >= SP_SLA__COUNT) return (sp_sla_span){0, SP_SPAN_WORKING};
    return p->span[type < SP_SLA_TYPES ? type : 0][kind];
}

const char *sp_sla_kind_name(sp_sla_kind kind) {
    static const char *const names[SP_SLA__COUNT] = {"verify", "dispose", "respond", "autoclose",
                                                     "complete"};
    return kind < SP_SLA__COUNT ? names[kind] : "?";
}

uint64_t sp_sla_policy_fingerprint(const sp_sla_policy *p) {
    uint64_t h = 1469598103934665603ull;
    for (int t = 0; t < SP_SLA_TYPES; t++)
        for (int k = 0; k < SP_SLA__COUNT; k++) {
            uint8_t b[3] = {(uint8_t)p->span[t][k].n, (uint8_t)(p->span[t][k].n >> 8), p->span[t][k].unit};
            for (int i = 0; i < 3; i++) h = (h ^ b[i]) * 1099511628211ull;
        }
    return h;
}
