// tree.h: a project's messages loaded into memory as trees (label-internal; the
// exports walk them).
#ifndef PT_LABEL_TREE_H
#define PT_LABEL_TREE_H

#include "label/label.h"

typedef struct {
    int64_t id, parent_id, author_id, created;
    bool assistant;
    LabelState state;
    int category;           // -1: none
    char *text, *system;    // owned (system NULL unless a root has one)
    int parent;             // index of the parent node, -1 for a root
    int *kids, n_kids;      // indices of the children, by id
    double rank_sum;        // sum of ranking positions over rankings that include it
    int rank_n;             // how many rankings include it
} TreeNode;

typedef struct {
    TreeNode *v;
    int n;
    int *roots, n_roots;
} Forest;

// Loads every message of project_id, with the rankings' positions summed per message.
int forest_load(LabelDb *d, int64_t project_id, Forest *f, Err *e);
void forest_free(Forest *f);
// The index of message id in f, or -1.
int find_node(const Forest *f, int64_t id);

#endif
