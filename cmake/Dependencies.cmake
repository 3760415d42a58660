# Libraries that only some labs need, found only when such a lab is present, so an
# early handout builds on a machine without them. Each lab lists its own in
# cmake/Labs.cmake (mydocker_lab_dependencies).
set(MYDOCKER_LAB_PACKAGES
  "05:LibArchive"      # image import: tar layers
  "06:PkgConfig"       # libnl-route-3 through pkg-config (below)
  "10:PkgConfig"       # libseccomp through pkg-config (below)
  )

# Libraries found through pkg-config, as LAB:VARIABLE:MODULE: each becomes the imported
# target PkgConfig::VARIABLE, visible everywhere (common/ builds the lab's given code).
set(MYDOCKER_LAB_PKGCONFIG_MODULES
  "06:LIBNL_ROUTE:libnl-route-3.0"   # lab 06: links, addresses, routes (netlink)
  "10:LIBSECCOMP:libseccomp"         # lab 10: Docker's default seccomp denials
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
  foreach(entry ${MYDOCKER_LAB_PKGCONFIG_MODULES})
    string(REPLACE ":" ";" triple ${entry})
    list(GET triple 0 nn)
    list(GET triple 1 variable)
    list(GET triple 2 module)
    if(nn STREQUAL lab AND NOT TARGET PkgConfig::${variable})
      pkg_check_modules(${variable} REQUIRED IMPORTED_TARGET GLOBAL ${module})
    endif()
  endforeach()
endfunction()
