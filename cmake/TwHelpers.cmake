# Build helpers shared by every folder: one library target per top-level folder, warnings in an
# INTERFACE target, sanitizers by option, tests registered through GoogleTest discovery.

add_library(tw_warnings INTERFACE)
target_compile_options(tw_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough
  # Aggregates with default member initialisers are the house style for value types; listing
  # every trailing member would add noise, not safety.
  -Wno-missing-field-initializers)
if(TW_WERROR)
  target_compile_options(tw_warnings INTERFACE -Werror)
endif()

add_library(tw_sanitizers INTERFACE)
if(TW_SANITIZE)
  target_compile_options(tw_sanitizers INTERFACE -fsanitize=${TW_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(tw_sanitizers INTERFACE -fsanitize=${TW_SANITIZE})
endif()

if(TW_CLANG_TIDY)
  find_program(TW_CLANG_TIDY_EXE NAMES clang-tidy-16 clang-tidy REQUIRED)
  set(CMAKE_CXX_CLANG_TIDY ${TW_CLANG_TIDY_EXE})
endif()

# tw_add_library(NAME SRCS ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates tw_<NAME> and the alias tw::<NAME>; the include root is the repository root so that
# includes read "pipeline/status.h".
function(tw_add_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tw_${name} STATIC ${ARG_SRCS})
  add_library(tw::${name} ALIAS tw_${name})
  target_include_directories(tw_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(tw_${name} PUBLIC ${ARG_PUBLIC_DEPS} tw_sanitizers
    PRIVATE ${ARG_PRIVATE_DEPS} tw_warnings)
endfunction()

# tw_add_test(NAME SRCS ... DEPS ... LABEL unit|integration|e2e)
function(tw_add_test name)
  if(NOT TW_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "LABEL" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
    tw_warnings tw_sanitizers)
  target_compile_definitions(${name} PRIVATE
    TW_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TW_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} DISCOVERY_TIMEOUT 60)
endfunction()
