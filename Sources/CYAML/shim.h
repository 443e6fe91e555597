#ifndef MEDSEARCH_CYAML_SHIM_H
#define MEDSEARCH_CYAML_SHIM_H
#include <yaml.h>
#endif
