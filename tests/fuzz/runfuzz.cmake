# test_fuzz_workflow (see CMakeLists.txt): configure and build the fuzzer project with clang++,
# then fuzz for SECONDS seconds on a fresh copy of the seed corpus. Fails on any crash, leak,
# undefined behaviour, input slower than 10 s or memory beyond 2 GiB.
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... -DCLANGXX=... -DGENERATOR=... -DSECONDS=60 -P runfuzz.cmake
foreach(var SOURCE_DIR BUILD_DIR SECONDS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "runfuzz.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT CLANGXX OR NOT EXISTS "${CLANGXX}")
  message(FATAL_ERROR "clang++ was not found: scripts/install-deps.sh installs it "
                      "(clang, libclang-rt-14-dev), then configure the build again")
endif()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc})")
  endif()
endfunction()

set(generator_args)
if(GENERATOR)
  set(generator_args -G "${GENERATOR}")
endif()
if(NOT EXISTS "${BUILD_DIR}/CMakeCache.txt")
  run("configuring the fuzzer" ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BUILD_DIR}"
      ${generator_args} -DCMAKE_CXX_COMPILER=${CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo)
endif()
run("building the fuzzer" ${CMAKE_COMMAND} --build "${BUILD_DIR}" -j 2)

set(corpus "${BUILD_DIR}/corpus")
set(artifacts "${BUILD_DIR}/artifacts")
file(REMOVE_RECURSE "${corpus}" "${artifacts}")
file(MAKE_DIRECTORY "${corpus}" "${artifacts}")
file(GLOB seeds "${SOURCE_DIR}/corpus/*")
file(COPY ${seeds} DESTINATION "${corpus}")

# A readable stack for a crash, when llvm-symbolizer is there.
find_program(symbolizer NAMES llvm-symbolizer llvm-symbolizer-14)
if(symbolizer)
  set(ENV{ASAN_SYMBOLIZER_PATH} "${symbolizer}")
endif()
set(ENV{ASAN_OPTIONS} "detect_leaks=1:abort_on_error=1:symbolize=1")
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
message(STATUS "fuzzing for ${SECONDS} s; crashing inputs go to ${artifacts}/")
run("fuzz_workflow (see the input it saved in ${artifacts}/)"
    "${BUILD_DIR}/fuzz_workflow" -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
    -max_len=16384 -dict=${SOURCE_DIR}/workflow.dict -print_final_stats=1
    -artifact_prefix=${artifacts}/ "${corpus}")
