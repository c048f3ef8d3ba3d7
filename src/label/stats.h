// stats.h: what a project holds and how far its labelers agree.
#ifndef PT_LABEL_STATS_H
#define PT_LABEL_STATS_H

#include "label/label.h"

typedef struct {
    char name[LABEL_NAME_MAX + 1];
    LabelRole role;
    size_t messages[3];  // written, by state (pending, accepted, rejected)
    size_t drafts_open, drafts_saved, rankings, reviews;
} LabelUserStats;

typedef struct {
    size_t prompts, by_category[LCAT_COUNT + 1];   // roots; [LCAT_COUNT]: no category
    size_t messages[2][3];                         // [user, assistant][state]
    size_t drafts, drafts_saved;
    double mean_edit_distance;                     // over saved drafts with a distance
    size_t rankings;
    // Agreement between two labelers who ranked replies of the same parent, over the
    // replies both ranked: each pair of replies is concordant (both put them in the same
    // order) or discordant. agreement = concordant / pairs; tau is Kendall's tau-a,
    // (C - D) / (C + D), averaged over the compared ranking pairs.
    size_t compared;                               // ranking pairs compared
    size_t item_pairs, concordant;
    double agreement, mean_tau;                    // NaN-free: 0 when compared == 0
    LabelUserStats *users;                         // every user, by name
    int n_users;
} LabelStats;

// Stats of project_id (0: every project), for reviewers and admins.
int label_stats(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelStats *s, Err *e);
void label_stats_free(LabelStats *s);

// Kendall-style comparison of two rankings of the same items: pa[i], pb[i] are the
// positions of item i in each. Adds concordant / discordant pair counts.
void label_rank_compare(const int *pa, const int *pb, int n, size_t *concordant, size_t *discordant);

#endif
