# Sanitizer and fuzzing builds; scripts/sanitize.sh drives both (build-asan/).
#
#   SCIMSYNC_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer on every target,
#                         and any report aborts the process (-fno-sanitize-recover=all),
#                         so a test that triggers one fails.
#   SCIMSYNC_FUZZ=ON      the libFuzzer targets in tests/fuzz/ (needs clang and Debian's
#                         libclang-rt-14-dev); implies SCIMSYNC_SANITIZE and adds
#                         coverage instrumentation (-fsanitize=fuzzer-no-link) to the
#                         libraries under test.
option(SCIMSYNC_SANITIZE "Build with ASan and UBSan; any report aborts" OFF)
option(SCIMSYNC_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)

if(SCIMSYNC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SCIMSYNC_FUZZ=ON needs clang (libFuzzer); "
                        "configure with CXX=clang++ (found ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(SCIMSYNC_SANITIZE ON)
endif()

if(SCIMSYNC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  # Lets a test drop a wall-clock bound that only holds for an optimized build.
  add_compile_definitions(SCIMSYNC_SANITIZED=1)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Known third-party reports only; each entry names its upstream issue.
    add_compile_options(-fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/ubsan-ignorelist.txt)
  endif()
endif()

if(SCIMSYNC_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
