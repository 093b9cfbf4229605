# One helper per kind of target, in the spirit of Abseil's absl_cc_library: every library, binary,
# test and proto of Fabrique is declared through these, with its dependencies spelled out.
#
#   fabrique_cc_library(NAME core SRCS a.cc HDRS a.h DEPS absl::status PUBLIC_DEPS ...)
#     -> target fabrique_core, alias fabrique::core
#   fabrique_cc_binary(NAME fabrique-features SRCS main.cc DEPS fabrique::server)
#   fabrique_cc_test(NAME core_status_test SRCS status_test.cc DEPS fabrique::core
#                    [LABELS unit] [TIMEOUT 120])
#   fabrique_proto_library(NAME features PROTOS fabrique/v1/features.proto DEPS common [GRPC]
#                          [ROOT dir])   (ROOT: import root, default protos/)
#     -> fabrique::proto_features (messages only) and, with GRPC, fabrique::proto_features_grpc

set(FABRIQUE_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(fabrique_cc_library)
  cmake_parse_arguments(FL "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  set(_target fabrique_${FL_NAME})
  if(FL_SRCS)
    add_library(${_target} STATIC ${FL_SRCS} ${FL_HDRS})
    target_include_directories(${_target} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
    target_link_libraries(${_target} PUBLIC ${FL_DEPS})
    target_compile_options(${_target} PRIVATE ${FABRIQUE_WARNINGS})
  else()
    add_library(${_target} INTERFACE)
    target_include_directories(${_target} INTERFACE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/gen)
    target_link_libraries(${_target} INTERFACE ${FL_DEPS})
  endif()
  add_library(fabrique::${FL_NAME} ALIAS ${_target})
endfunction()

function(fabrique_cc_binary)
  cmake_parse_arguments(FB "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${FB_NAME} ${FB_SRCS})
  target_link_libraries(${FB_NAME} PRIVATE ${FB_DEPS})
  target_compile_options(${FB_NAME} PRIVATE ${FABRIQUE_WARNINGS})
endfunction()

# Tests are Catch2 v2 executables registered with CTest; they land in build/bin/tests/.
function(fabrique_cc_test)
  if(NOT FABRIQUE_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(FT "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${FT_NAME} ${FT_SRCS})
  target_link_libraries(${FT_NAME} PRIVATE fabrique::catch_main ${FT_DEPS})
  target_compile_options(${FT_NAME} PRIVATE ${FABRIQUE_WARNINGS})
  set_target_properties(${FT_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin/tests)
  add_test(NAME ${FT_NAME} COMMAND ${FT_NAME} --order rand --warn NoAssertions)
  if(NOT FT_TIMEOUT)
    set(FT_TIMEOUT 120)
  endif()
  if(FABRIQUE_TEST_TIMEOUT_SCALE)
    math(EXPR FT_TIMEOUT "${FT_TIMEOUT} * ${FABRIQUE_TEST_TIMEOUT_SCALE}")
  endif()
  if(NOT FT_LABELS)
    set(FT_LABELS unit)
  endif()
  set_tests_properties(${FT_NAME} PROPERTIES TIMEOUT ${FT_TIMEOUT} LABELS "${FT_LABELS}"
    ENVIRONMENT "FABRIQUE_BIN_DIR=${CMAKE_BINARY_DIR}/bin;FABRIQUE_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# Generates C++ from .proto files under protos/. Messages and services are separate targets so
# that domain libraries can depend on messages without pulling in gRPC.
function(fabrique_proto_library)
  cmake_parse_arguments(FP "GRPC" "NAME;ROOT" "PROTOS;DEPS" ${ARGN})
  set(_proto_root ${PROJECT_SOURCE_DIR}/protos)
  if(FP_ROOT)
    set(_proto_root ${FP_ROOT})
  endif()
  set(_gen ${PROJECT_BINARY_DIR}/gen)
  set(_msg_srcs)
  set(_grpc_srcs)
  foreach(_proto ${FP_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" _stem ${_proto})
    set(_abs ${_proto_root}/${_proto})
    set(_pb ${_gen}/${_stem}.pb.cc ${_gen}/${_stem}.pb.h)
    add_custom_command(
      OUTPUT ${_pb}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_gen}
      COMMAND protobuf::protoc --cpp_out=${_gen} -I${_proto_root} -I/usr/include ${_abs}
      DEPENDS ${_abs} protobuf::protoc
      COMMENT "protoc ${_proto}"
      VERBATIM)
    list(APPEND _msg_srcs ${_pb})
    if(FP_GRPC)
      set(_grpc ${_gen}/${_stem}.grpc.pb.cc ${_gen}/${_stem}.grpc.pb.h)
      add_custom_command(
        OUTPUT ${_grpc}
        COMMAND protobuf::protoc --grpc_out=${_gen} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN}
                -I${_proto_root} -I/usr/include ${_abs}
        DEPENDS ${_abs} protobuf::protoc
        COMMENT "grpc_cpp_plugin ${_proto}"
        VERBATIM)
      list(APPEND _grpc_srcs ${_grpc})
    endif()
  endforeach()
  set(_deps)
  foreach(_d ${FP_DEPS})
    list(APPEND _deps fabrique::proto_${_d})
  endforeach()
  add_library(fabrique_proto_${FP_NAME} STATIC ${_msg_srcs})
  target_include_directories(fabrique_proto_${FP_NAME} PUBLIC ${_gen})
  target_link_libraries(fabrique_proto_${FP_NAME} PUBLIC protobuf::libprotobuf ${_deps})
  add_library(fabrique::proto_${FP_NAME} ALIAS fabrique_proto_${FP_NAME})
  if(FP_GRPC)
    set(_grpc_deps)
    foreach(_d ${FP_DEPS})
      if(TARGET fabrique_proto_${_d}_grpc)
        list(APPEND _grpc_deps fabrique::proto_${_d}_grpc)
      endif()
    endforeach()
    add_library(fabrique_proto_${FP_NAME}_grpc STATIC ${_grpc_srcs})
    target_link_libraries(fabrique_proto_${FP_NAME}_grpc
      PUBLIC fabrique::proto_${FP_NAME} gRPC::grpc++ ${_grpc_deps})
    add_library(fabrique::proto_${FP_NAME}_grpc ALIAS fabrique_proto_${FP_NAME}_grpc)
  endif()
endfunction()
