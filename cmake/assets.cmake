# Embed static assets into the binary, so one binary is the whole deployment.
# Everything under static/ except the front-end sources and npm files.
file(GLOB_RECURSE STATIC_FILES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/static/css/*
  ${CMAKE_SOURCE_DIR}/static/img/*
  ${CMAKE_SOURCE_DIR}/static/dist/*)
list(SORT STATIC_FILES)
parallax_embed(${GEN}/static_files.c web_static_files ${CMAKE_SOURCE_DIR}/static ${STATIC_FILES})
list(APPEND PARALLAX_EXTRA_GENERATED ${GEN}/static_files.c)
# Dashboard templates (web/tmpl.h), compiled at start-up; --dev reads them from disk.
file(GLOB_RECURSE TEMPLATE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/templates/*.html)
list(SORT TEMPLATE_FILES)
parallax_embed(${GEN}/template_files.c web_template_files ${CMAKE_SOURCE_DIR}/templates ${TEMPLATE_FILES})
list(APPEND PARALLAX_EXTRA_GENERATED ${GEN}/template_files.c)
