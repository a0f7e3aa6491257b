# Fuzz targets for the HTTP API's parsers (issue 7); seed corpora in fuzz/corpus/intake_json/
# and fuzz/corpus/sms/.
sp_fuzz(NAME fuzz_intake_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_intake_json.c LIBS sp_node)
sp_fuzz(NAME fuzz_sms SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_sms.c LIBS sp_node)
