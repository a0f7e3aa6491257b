#include "node/app/pbjson.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/crypto.h"

static json_t *bytes_json(const ProtobufCBinaryData *b) {
    char *s = malloc(sp_base64_encoded_len(b->len));
    if (!s) return NULL;
    sp_base64_encode(b->data, b->len, s);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *enum_json(const ProtobufCEnumDescriptor *d, int v) {
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? json_string(ev->name) : json_integer(v);
}

/* One value of field f stored at p. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return json_integer(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return json_integer((json_int_t)*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: return enum_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: return json_string(*(char *const *)p ? *(char *const *)p : "");
    case PROTOBUF_C_TYPE_BYTES: return bytes_json(p);
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p ? sp_pb_to_json(*(ProtobufCMessage *const *)p)
                                             : json_object();
    }
    return json_null();
}

static size_t value_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    default: return 4;
    }
}

/* Whether a proto3 field without presence holds its default (and is therefore left out). */
static int is_default(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: return !*(char *const *)p || !**(char *const *)p;
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)p == NULL;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, value_size(f->type)) == 0;
    }
    }
}

static json_t *field_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    const char *base = (const char *)m;
    const void *p = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        if (n == 0) return NULL;
        json_t *arr = json_array();
        const char *items = *(char *const *)p;
        for (size_t i = 0; arr && i < n; i++)
            json_array_append_new(arr, value_json(f, items + i * value_size(f->type)));
        return arr;
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + f->quantifier_offset) != f->id) return NULL;
    } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
               f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
        if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset)) return NULL;
    } else if (is_default(f, p)) {
        return NULL;
    }
    return value_json(f, p);
}

json_t *sp_pb_to_json(const ProtobufCMessage *m) {
    json_t *obj = json_object();
    if (!obj) return NULL;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        json_t *v = field_json(m, &d->fields[i]);
        if (v) json_object_set_new(obj, d->fields[i].name, v);
    }
    return obj;
}

void sp_json_time_str(uint64_t ms, char *buf, size_t cap) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03uZ", base, (unsigned)(ms % 1000));
}

json_t *sp_json_time(uint64_t ms) {
    if (!ms) return json_null();
    char buf[40];
    sp_json_time_str(ms, buf, sizeof buf);
    return json_string(buf);
}
