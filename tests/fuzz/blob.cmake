# Fuzz target for the attachment fetch's requests and replies (defect 5); seed corpus in
# fuzz/corpus/blob_request/.
sp_fuzz(NAME fuzz_blob_request SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_blob_request.c
        LIBS sp_node)
