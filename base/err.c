#include "base/err.h"

static const char *const messages[] = {
#define XX(name, msg) msg,
    SP_ERR_MAP(XX)
#undef XX
};

static const char *const names[] = {
#define XX(name, msg) #name,
    SP_ERR_MAP(XX)
#undef XX
};

const char *sp_strerror(sp_err e) {
    if ((unsigned)e >= SP_ERR__COUNT) return "unknown error";
    return messages[e];
}

const char *sp_errname(sp_err e) {
    if ((unsigned)e >= SP_ERR__COUNT) return "UNKNOWN";
    return names[e];
}
