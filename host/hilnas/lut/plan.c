/*
 * Host-side arena planning for the LUT predictor (hilnas.lut.cplan): many members per
 * call. Each member is a list of compiled block segments (hilnas.lut.segments); they are
 * stitched (op indices shifted, each open buffer closed at the next segment's last read
 * of it), then placed exactly as firmware/engine/src/planner.c places buffers: tensors in
 * order, then op scratch in op order, stable-sorted by size (largest first), each at the
 * lowest offset where it overlaps no placed buffer that is alive at the same time.
 * The result must equal hilnas.lut.segments.place() (tests compare them).
 */
#include <stdint.h>
#include <stdlib.h>

#define SEG_NONE (-(1 << 30))

typedef struct {
    const int32_t *nops, *open, *inlast, *t0, *tn, *s0, *sn;
} segs_t;

static int32_t stitch(const segs_t *sg, const int32_t *ids, int32_t count, const int32_t *t_size,
                      const int32_t *t_first, const int32_t *t_last, const int32_t *s_size,
                      const int32_t *s_op, int32_t cap, int64_t *size, int32_t *first,
                      int32_t *last)
{
    int32_t n = 0, off = 0, open_at = -1;
    for (int32_t k = 0; k < count; ++k) {
        int32_t s = ids[k];
        if (sg->inlast[s] != SEG_NONE && open_at >= 0 && last[open_at] < sg->inlast[s] + off) {
            last[open_at] = sg->inlast[s] + off;
        }
        int32_t base = n;
        if (n + sg->tn[s] > cap) return -1;
        for (int32_t j = sg->t0[s]; j < sg->t0[s] + sg->tn[s]; ++j, ++n) {
            size[n] = t_size[j];
            first[n] = t_first[j] + off;
            last[n] = t_last[j] + off;
        }
        if (sg->open[s] >= 0) open_at = base + sg->open[s];
        off += sg->nops[s];
    }
    off = 0;
    for (int32_t k = 0; k < count; ++k) {
        int32_t s = ids[k];
        if (n + sg->sn[s] > cap) return -1;
        for (int32_t j = sg->s0[s]; j < sg->s0[s] + sg->sn[s]; ++j, ++n) {
            size[n] = s_size[j];
            first[n] = last[n] = s_op[j] + off;
        }
        off += sg->nops[s];
    }
    return n;
}

typedef struct {
    int64_t size;
    int32_t index;
} sort_key;

static int by_size_then_index(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    if (a->size != b->size) return a->size < b->size ? 1 : -1;
    return (a->index > b->index) - (a->index < b->index);
}

/* planner.c's order (size descending, stable = index ascending for equal sizes) and
 * first_fit. first_fit moves its candidate past every overlapping buffer until none
 * overlaps: that is the lowest offset where the buffer overlaps nothing alive with it,
 * which one sweep over those buffers, sorted by offset, finds. The buffers alive with
 * a buffer are found through per-op lists of placed buffers (lifetimes are short in a
 * chain), not by scanning every placed buffer. Returns -1 when out of memory. */
static int64_t place(int32_t n, const int64_t *size, const int32_t *first, const int32_t *last,
                     int64_t *offset)
{
    int32_t tmax = 0, m = 0;
    int64_t nodes = 0;
    for (int32_t b = 0; b < n; ++b) {
        if (size[b] <= 0) continue;
        if (last[b] > tmax) tmax = last[b];
        nodes += last[b] - first[b] + 1;
        ++m;
    }
    int32_t nt = tmax + 2; /* ops -1 .. tmax */
    sort_key *keys = malloc(sizeof(sort_key) * (size_t)(m ? m : 1));
    int32_t *head = malloc(sizeof(int32_t) * (size_t)nt);
    int32_t *next = malloc(sizeof(int32_t) * (size_t)(nodes ? nodes : 1));
    int32_t *owner = malloc(sizeof(int32_t) * (size_t)(nodes ? nodes : 1));
    int32_t *seen = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int32_t *alive = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int64_t total = -1;
    if (!keys || !head || !next || !owner || !seen || !alive) goto out;
    m = 0;
    for (int32_t b = 0; b < n; ++b) {
        seen[b] = -1;
        if (size[b] > 0) keys[m++] = (sort_key){size[b], b};
    }
    qsort(keys, (size_t)m, sizeof(sort_key), by_size_then_index);
    for (int32_t t = 0; t < nt; ++t) head[t] = -1;
    total = 0;
    int32_t used = 0;
    for (int32_t k = 0; k < m; ++k) {
        int32_t me = keys[k].index;
        int32_t na = 0;
        for (int32_t t = first[me]; t <= last[me]; ++t) {
            for (int32_t e = head[t + 1]; e >= 0; e = next[e]) {
                int32_t o = owner[e];
                if (seen[o] == k) continue;
                seen[o] = k;
                int32_t q = na++; /* insertion by offset */
                while (q > 0 && offset[alive[q - 1]] > offset[o]) {
                    alive[q] = alive[q - 1];
                    --q;
                }
                alive[q] = o;
            }
        }
        int64_t cand = 0;
        for (int32_t q = 0; q < na; ++q) {
            int32_t o = alive[q];
            if (offset[o] >= cand + size[me]) break;
            if (offset[o] + size[o] > cand) cand = offset[o] + size[o];
        }
        offset[me] = cand;
        if (cand + size[me] > total) total = cand + size[me];
        for (int32_t t = first[me]; t <= last[me]; ++t, ++used) {
            owner[used] = me;
            next[used] = head[t + 1];
            head[t + 1] = used;
        }
    }
out:
    free(keys);
    free(head);
    free(next);
    free(owner);
    free(seen);
    free(alive);
    return total;
}

/* Planned bytes of each member into out[]; returns 0, or -1 when a member has more than
 * cap buffers (the caller sizes the work arrays), -2 when out of memory. */
int hn_lut_plan_many(int32_t n_members, const int32_t *m_start, const int32_t *m_count,
                     const int32_t *seg_ids, const int32_t *nops, const int32_t *open,
                     const int32_t *inlast, const int32_t *t0, const int32_t *tn,
                     const int32_t *s0, const int32_t *sn, const int32_t *t_size,
                     const int32_t *t_first, const int32_t *t_last, const int32_t *s_size,
                     const int32_t *s_op, int32_t cap, int64_t *w_size, int32_t *w_first,
                     int32_t *w_last, int32_t *w_order, int64_t *w_off, int64_t *out)
{
    segs_t sg = {nops, open, inlast, t0, tn, s0, sn};
    for (int32_t i = 0; i < n_members; ++i) {
        int32_t n = stitch(&sg, seg_ids + m_start[i], m_count[i], t_size, t_first, t_last,
                           s_size, s_op, cap, w_size, w_first, w_last);
        if (n < 0) return -1;
        (void)w_order;
        out[i] = place(n, w_size, w_first, w_last, w_off);
        if (out[i] < 0) return -2;
    }
    return 0;
}
