/*
 * The node-type modules, for the registry (engine/nodes/registry.c) only.
 * Each engine/nodes/<type>.c defines one of these.
 */
#ifndef ENGINE_NODES_INTERNAL_H
#define ENGINE_NODES_INTERNAL_H

#include "engine/engine.h"

extern const struct node_type node_input;
extern const struct node_type node_agent;
extern const struct node_type node_race;
extern const struct node_type node_cascade;
extern const struct node_type node_consensus;
extern const struct node_type node_vote;
extern const struct node_type node_merge;
extern const struct node_type node_best;
extern const struct node_type node_gate;
extern const struct node_type node_condition;
extern const struct node_type node_route;
extern const struct node_type node_map;
extern const struct node_type node_reduce;
extern const struct node_type node_review;
extern const struct node_type node_approval;
extern const struct node_type node_transform;
extern const struct node_type node_pattern;
extern const struct node_type node_output;

#endif
