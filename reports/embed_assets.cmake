# Writes OUTPUT: a C++ file defining the report's CSS and JavaScript as string
# constants (raw literals split in chunks; compilers limit one literal's length).
function(chunked_literal path out_var)
  file(READ ${path} content)
  string(LENGTH "${content}" length)
  set(result "")
  set(offset 0)
  while(offset LESS length)
    string(SUBSTRING "${content}" ${offset} 8000 chunk)
    string(APPEND result "R\"chaosbench_asset(${chunk})chaosbench_asset\"\n")
    math(EXPR offset "${offset} + 8000")
  endwhile()
  if(result STREQUAL "")
    set(result "\"\"")
  endif()
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()
chunked_literal(${CSS} css_literal)
chunked_literal(${JS} js_literal)
file(WRITE ${OUTPUT} "// Generated from reports/assets by embed_assets.cmake; do not edit.\n"
  "#include \"report_assets.h\"\n"
  "namespace chaosbench::reports::assets {\n"
  "const char* const kReportCss =\n${css_literal};\n"
  "const char* const kReportJs =\n${js_literal};\n"
  "}  // namespace chaosbench::reports::assets\n")
