# The busybox image, built from the distribution's static busybox (no download):
#   build/images/busybox/rootfs   a root filesystem directory
#   build/images/busybox.tar      the same, as a tar (lab 05 imports it as a flat root filesystem)
#   build/images/busybox-layered.tar  the same in four layers, as `docker save` writes an
#                                 image (lab 05's tests and the demo import it)
find_program(BUSYBOX_STATIC NAMES busybox PATHS /bin /usr/bin NO_DEFAULT_PATH)
if(NOT BUSYBOX_STATIC)
  message(FATAL_ERROR "busybox not found: install the busybox-static package (tools/setup does)")
endif()
set(MYDOCKER_IMAGE_DIR ${CMAKE_BINARY_DIR}/images)
add_custom_command(
  OUTPUT ${MYDOCKER_IMAGE_DIR}/busybox.tar ${MYDOCKER_IMAGE_DIR}/busybox/.complete
  COMMAND ${CMAKE_SOURCE_DIR}/tools/lib/make-busybox-image ${BUSYBOX_STATIC} ${MYDOCKER_IMAGE_DIR}
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/lib/make-busybox-image
  COMMENT "Building the busybox image")
add_custom_command(
  OUTPUT ${MYDOCKER_IMAGE_DIR}/busybox-layered.tar
  COMMAND ${CMAKE_SOURCE_DIR}/tools/lib/make-busybox-layers ${MYDOCKER_IMAGE_DIR}/busybox/rootfs
          ${MYDOCKER_IMAGE_DIR}/busybox-layered.tar
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/lib/make-busybox-layers ${MYDOCKER_IMAGE_DIR}/busybox/.complete
  COMMENT "Building the layered busybox image (docker save layout)")
add_custom_target(busybox_image ALL
  DEPENDS ${MYDOCKER_IMAGE_DIR}/busybox.tar ${MYDOCKER_IMAGE_DIR}/busybox-layered.tar)
