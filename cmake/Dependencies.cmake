# Libraries that only some labs need, found only when such a lab is present, so an
# early handout builds on a machine without them. Each lab lists its own in
# cmake/Labs.cmake (mydocker_lab_dependencies).
set(MYDOCKER_LAB_PACKAGES
  "05:LibArchive"      # image import: tar layers
  "06:PkgConfig"       # libnl-route-3 through pkg-config
  )

function(mydocker_find_lab_dependencies lab)
  foreach(entry ${MYDOCKER_LAB_PACKAGES})
    string(REPLACE ":" ";" pair ${entry})
    list(GET pair 0 nn)
    list(GET pair 1 package)
    if(nn STREQUAL lab)
      find_package(${package} REQUIRED)
    endif()
  endforeach()
endfunction()
