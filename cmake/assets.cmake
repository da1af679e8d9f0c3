# Embed static assets into the binary, so one binary is the whole deployment.
# Everything under static/ except the front-end sources and npm files.
file(GLOB_RECURSE STATIC_FILES CONFIGURE_DEPENDS
  ${CMAKE_SOURCE_DIR}/static/css/*
  ${CMAKE_SOURCE_DIR}/static/img/*)
list(SORT STATIC_FILES)
parallax_embed(${GEN}/static_files.c web_static_files ${CMAKE_SOURCE_DIR}/static ${STATIC_FILES})
list(APPEND PARALLAX_EXTRA_GENERATED ${GEN}/static_files.c)
# Dashboard templates (web/tmpl.h), compiled at start-up; --dev reads them from disk.
file(GLOB_RECURSE TEMPLATE_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/templates/*.html)
list(SORT TEMPLATE_FILES)
parallax_embed(${GEN}/template_files.c web_template_files ${CMAKE_SOURCE_DIR}/templates ${TEMPLATE_FILES})
list(APPEND PARALLAX_EXTRA_GENERATED ${GEN}/template_files.c)
# The front end: static/src/app.js bundled by esbuild (static/node_modules, installed by
# scripts/bootstrap) into the build directory, embedded as /static/dist/app.js. Without
# node_modules the dashboard still works, without its script (every form works without).
# The pattern builder (static/src/builder/main.jsx: React and React Flow) is a second entry,
# /static/dist/builder.js and the CSS it imports, /static/dist/builder.css, loaded by the
# builder's page only, so the other pages stay light.
set(ESBUILD ${CMAKE_SOURCE_DIR}/static/node_modules/.bin/esbuild)
set(FRONT_OUT ${CMAKE_BINARY_DIR}/front)
file(GLOB_RECURSE FRONT_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/static/src/*.js
  ${CMAKE_SOURCE_DIR}/static/src/*.jsx ${CMAKE_SOURCE_DIR}/static/src/*.css)
if(EXISTS ${ESBUILD})
  add_custom_command(
    OUTPUT ${FRONT_OUT}/dist/app.js
    COMMAND ${ESBUILD} ${CMAKE_SOURCE_DIR}/static/src/app.js --bundle --minify --format=iife
            --target=es2020 --legal-comments=none --log-level=warning
            --outfile=${FRONT_OUT}/dist/app.js
    DEPENDS ${FRONT_SOURCES} ${CMAKE_SOURCE_DIR}/static/package-lock.json
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/static
    COMMENT "Bundling the front end (esbuild)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${FRONT_OUT}/dist/builder.js ${FRONT_OUT}/dist/builder.css
    COMMAND ${ESBUILD} ${CMAKE_SOURCE_DIR}/static/src/builder/main.jsx --bundle --minify
            --format=iife --target=es2020 --jsx=automatic --loader:.js=jsx
            --define:process.env.NODE_ENV="production" --legal-comments=none
            --log-level=warning --outfile=${FRONT_OUT}/dist/builder.js
    DEPENDS ${FRONT_SOURCES} ${CMAKE_SOURCE_DIR}/static/package-lock.json
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/static
    COMMENT "Bundling the pattern builder (esbuild)"
    VERBATIM)
  parallax_embed(${GEN}/front_files.c web_front_files ${FRONT_OUT} ${FRONT_OUT}/dist/app.js
                 ${FRONT_OUT}/dist/builder.js ${FRONT_OUT}/dist/builder.css)
else()
  message(WARNING "static/node_modules is missing (run scripts/bootstrap): building the dashboard without its script")
  parallax_embed(${GEN}/front_files.c web_front_files ${FRONT_OUT})
endif()
list(APPEND PARALLAX_EXTRA_GENERATED ${GEN}/front_files.c)
