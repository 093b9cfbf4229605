# The TorchScript loader: loads a version's module, decides how forward is called with its
# signature, warms it up and scores batches on the CPU or CUDA. LibTorch is linked PRIVATE:
# torchscript_loader.h, the header others include, has plain types, so nothing built on it
# compiles against LibTorch. The other headers are the loader's own and include LibTorch.
fabrique_cc_library(NAME serving_torch
  SRCS torchscript_loader.cc torchscript_module.cc calling_convention.cc torch_tensors.cc
  HDRS torchscript_loader.h torchscript_module.h calling_convention.h torch_tensors.h
  DEPS fabrique::serving_ports fabrique::serving_tensors fabrique::core fabrique::proto_common
       absl::status absl::statusor absl::strings)
# fabrique::torch (the root CMakeLists.txt) also turns UBSan's vptr check off for these sources
# in sanitized builds.
target_link_libraries(fabrique_serving_torch PRIVATE fabrique::torch)
