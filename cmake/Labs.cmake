# Finds the labs present (labs/NN-topic/) and builds every variant of every lab.
# Adding a lab is adding labs/NN-topic/, solutions/NN-topic/, its contract header in
# common/include/mydocker/ and tests/labNN_topic_test.cpp: nothing here changes.

file(GLOB lab_dirs RELATIVE ${CMAKE_SOURCE_DIR}/labs ${CMAKE_SOURCE_DIR}/labs/[0-9][0-9]-*)
list(SORT lab_dirs)
set(MYDOCKER_LABS "")
set(MYDOCKER_VARIANTS labs)
if(MYDOCKER_HAVE_SOLUTIONS)
  list(APPEND MYDOCKER_VARIANTS solutions isolated skeleton)
endif()

# The generator of skeletons from the reference's marked regions.
set(MYDOCKER_SKELETON_TOOL ${CMAKE_SOURCE_DIR}/tools/skeleton)

foreach(dir ${lab_dirs})
  string(SUBSTRING ${dir} 0 2 nn)
  list(APPEND MYDOCKER_LABS ${nn})
  set(MYDOCKER_LAB_DIR_${nn} ${dir})
  mydocker_find_lab_dependencies(${nn})

  file(GLOB student_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/labs/${dir}/*.cpp)
  add_library(lab${nn}_labs OBJECT ${student_sources})

  if(MYDOCKER_HAVE_SOLUTIONS)
    file(GLOB reference_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/solutions/${dir}/*.cpp)
    add_library(lab${nn}_solutions OBJECT ${reference_sources})

    # The untouched skeleton, generated from the reference at build time, so the
    # check that every graded test fails on it never depends on edits in labs/.
    set(skeleton_sources "")
    foreach(src ${reference_sources})
      get_filename_component(name ${src} NAME)
      set(out ${CMAKE_BINARY_DIR}/skeleton-src/${dir}/${name})
      add_custom_command(OUTPUT ${out}
        COMMAND ${MYDOCKER_SKELETON_TOOL} file ${src} ${out}
        DEPENDS ${src} ${MYDOCKER_SKELETON_TOOL}
        COMMENT "Generating skeleton ${dir}/${name}")
      list(APPEND skeleton_sources ${out})
    endforeach()
    add_library(lab${nn}_skeleton OBJECT ${skeleton_sources})
  endif()
endforeach()

foreach(nn ${MYDOCKER_LABS})
  foreach(kind ${MYDOCKER_VARIANTS})
    add_library(lab${nn}_${kind}_objects INTERFACE)
  endforeach()
endforeach()

foreach(nn ${MYDOCKER_LABS})
  string(REGEX REPLACE "^0" "" lab_number ${nn})
  foreach(target lab${nn}_labs lab${nn}_solutions lab${nn}_skeleton)
    if(TARGET ${target})
      target_link_libraries(${target} PUBLIC mydocker_common ${MYDOCKER_LAB_LIBRARIES_${nn}})
      target_compile_definitions(${target} PRIVATE MYDOCKER_LAB=${lab_number})
    endif()
  endforeach()

  # The driver: main and the CLI, built with the lab number, with the verbs of labs 1..NN
  # that have files of their own (MYDOCKER_DRIVER_SOURCES_MM, common/CMakeLists.txt).
  set(driver_sources ${MYDOCKER_DRIVER_SOURCES})
  foreach(mm ${MYDOCKER_LABS})
    if(mm GREATER nn)
      break()
    endif()
    list(APPEND driver_sources ${MYDOCKER_DRIVER_SOURCES_${mm}})
  endforeach()
  add_library(driver${nn} OBJECT ${driver_sources})
  target_compile_definitions(driver${nn} PUBLIC MYDOCKER_LAB=${lab_number})
  target_link_libraries(driver${nn} PUBLIC mydocker_common CLI11::CLI11)

  # The libraries that labs 1..NN need beyond mydocker_common (MYDOCKER_LAB_LIBRARIES_MM,
  # set where each is built: lab 05's image store in common/CMakeLists.txt).
  set(lab_libraries "")
  foreach(mm ${MYDOCKER_LABS})
    if(mm GREATER nn)
      break()
    endif()
    list(APPEND lab_libraries ${MYDOCKER_LAB_LIBRARIES_${mm}})
  endforeach()
  target_link_libraries(driver${nn} PUBLIC ${lab_libraries})

  foreach(kind ${MYDOCKER_VARIANTS})
    # Which lab code goes into this variant of labNN.
    set(objects "")
    foreach(mm ${MYDOCKER_LABS})
      if(mm GREATER nn)
        break()
      endif()
      if(kind STREQUAL "labs" OR kind STREQUAL "solutions")
        set(from ${kind})
      elseif(mm STREQUAL nn)  # isolated and skeleton: only lab NN is the student's
        if(kind STREQUAL "isolated")
          set(from labs)
        else()
          set(from skeleton)
        endif()
      else()
        set(from solutions)
      endif()
      list(APPEND objects $<TARGET_OBJECTS:lab${mm}_${from}>)
    endforeach()
    set(MYDOCKER_OBJECTS_${kind}_${nn} ${objects})

    add_executable(${kind}_lab${nn} $<TARGET_OBJECTS:driver${nn}> ${objects})
    target_link_libraries(${kind}_lab${nn} PRIVATE mydocker_common CLI11::CLI11 ${lab_libraries})
    set_target_properties(${kind}_lab${nn} PROPERTIES
      OUTPUT_NAME lab${nn}
      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${kind})
  endforeach()
endforeach()
