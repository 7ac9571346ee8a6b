# install(): the libraries (shared with a major-version SONAME), the header,
# a CMake package (weftConfig.cmake + weftConfigVersion.cmake) and weft.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES "${WEFT_SHARED_REAL}" "${WEFT_SHARED_SONAME}" "${WEFT_SHARED_LINK}" "${WEFT_STATIC}"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE
  COMPONENT weft)
install(FILES "${PROJECT_SOURCE_DIR}/include/weft.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT weft)

set(WEFT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/weft")
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/weftConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/weftConfig.cmake"
  INSTALL_DESTINATION "${WEFT_INSTALL_CMAKEDIR}"
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# 0.x releases are only compatible within the same minor version.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/weftConfig.cmake" "${PROJECT_BINARY_DIR}/weftConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/WeftAddWasmGuest.cmake"
  DESTINATION "${WEFT_INSTALL_CMAKEDIR}" COMPONENT weft)

list(TRANSFORM WEFT_STATIC_NATIVE_LIBS PREPEND "-l" OUTPUT_VARIABLE _weft_pc_libs)
list(JOIN _weft_pc_libs " " WEFT_PC_LIBS_PRIVATE)
# Relocatable: the prefix is found from the .pc file's own location, so
# `cmake --install --prefix ANYWHERE` yields a correct file.
file(RELATIVE_PATH WEFT_PC_PREFIX_REL "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" WEFT_PC_PREFIX_REL "${WEFT_PC_PREFIX_REL}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/weft.pc.in" "${PROJECT_BINARY_DIR}/weft.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/weft.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT weft)
