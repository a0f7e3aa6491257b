/*
 * Protobuf messages to JSON for humans and integrators (`--json`), driven by protobuf-c's
 * descriptors, so new schema fields appear without code changes. Follows the proto3 JSON
 * mapping where it matters: field names as in the .proto, enums by name, bytes as base64,
 * default values left out, 64-bit integers as JSON numbers.
 */
#ifndef SP_PBJSON_H
#define SP_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* A new JSON object (caller owns the reference), or NULL when out of memory. */
json_t *sp_pb_to_json(const ProtobufCMessage *m);

#endif
