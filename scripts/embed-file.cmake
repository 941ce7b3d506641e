# embed-file.cmake — writes the bytes of IN as a C array into OUT, for files the
# binary serves from memory (docs/openapi.json at GET /openapi.json).
# cmake -DIN=file -DOUT=file.c -DNAME=c_identifier -P embed-file.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* generated from ${IN} by scripts/embed-file.cmake: do not edit */\n"
     "#include <stddef.h>\n"
     "const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
     "const size_t ${NAME}_size = ${size};\n")
