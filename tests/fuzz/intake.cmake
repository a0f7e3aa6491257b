# Fuzz targets for the HTTP API's parsers (issue 7); seed corpora in fuzz/corpus/intake_json/
# and fuzz/corpus/sms/.
sp_fuzz(NAME fuzz_intake_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_intake_json.c LIBS sp_node)
sp_fuzz(NAME fuzz_sms SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_sms.c LIBS sp_node)
# Open311 GeoReport v2 form bodies (issue 13); seed corpus in fuzz/corpus/open311/.
sp_fuzz(NAME fuzz_open311 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_open311.c LIBS sp_node)
# Inbound e-mail (node/intake/email.h); seed corpus in fuzz/corpus/email/.
sp_fuzz(NAME fuzz_email SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_email.c LIBS sp_node)
# The channel adapters' webhook bodies: WhatsApp, X, 112 (issue 14); corpus in fuzz/corpus/channels/.
sp_fuzz(NAME fuzz_channels SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_channels.c LIBS sp_node)
