/*
 * Protobuf messages to JSON for humans and integrators (`--json`), driven by protobuf-c's
 * descriptors, so new schema fields appear without code changes. Follows the proto3 JSON
 * mapping where it matters: field names as in the .proto, enums by name, bytes as base64,
 * default values left out, 64-bit integers as JSON numbers. Also the API's one time format.
 */
#ifndef SP_PBJSON_H
#define SP_PBJSON_H

#include <stdint.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object (caller owns the reference), or NULL when out of memory. */
json_t *sp_pb_to_json(const ProtobufCMessage *m);

/* Times as the API writes them: ISO 8601 UTC with milliseconds, "2025-03-31T02:15:00.123Z".
 * str: into buf (cap >= 25). json: a new JSON string, or JSON null for 0 ("not yet"). */
void sp_json_time_str(uint64_t ms, char *buf, size_t cap);
json_t *sp_json_time(uint64_t ms);

#endif
