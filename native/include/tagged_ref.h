/*
 * tagged_ref.h — modification tags on LFS_REF_INDEX words, for structures
 * that guard their CASes the MS96 way (<pointer, count> pairs; Michael &
 * Scott, PODC 1996; Treiber's IBM RJ 5118 pops the same way). Every
 * successful CAS on a tagged word installs the old tag + 1, modulo
 * 2^tag_bits: a stale CAS fails unless the tag wrapped exactly — small
 * tag_bits make wrap-around ABA reachable on purpose.
 *
 * Uses only lfstress.h; a structure of one's own may include it.
 */
#ifndef LFS_TAGGED_REF_H
#define LFS_TAGGED_REF_H

#include "lfstress.h"

/* The "tag_bits" option every tagged structure declares. */
#define LFS_TAG_BITS_MIN 1
#define LFS_TAG_BITS_MAX 32
#define LFS_TAG_BITS_DEFAULT 16
_Static_assert(LFS_TAG_BITS_MAX <= 32, "a tag is the high 32 bits of an LFS_REF_INDEX word");
_Static_assert(LFS_TAG_BITS_MIN >= 1 && LFS_TAG_BITS_DEFAULT >= LFS_TAG_BITS_MIN &&
               LFS_TAG_BITS_DEFAULT <= LFS_TAG_BITS_MAX, "tag_bits default out of range");

/* The mask a tag of tag_bits bits wraps with. */
static inline lfs_word_t lfs_tag_mask(int64_t tag_bits)
{
    return tag_bits >= LFS_TAG_BITS_MAX ? (lfs_word_t)UINT32_MAX : ((lfs_word_t)1 << tag_bits) - 1;
}

/* The node a tagged word names, or NULL. */
static inline void *lfs_tagged_node(lfs_word_t ref)
{
    uint32_t slot_plus_one = lfs_ref_slot_plus_one(ref);
    return slot_plus_one == 0 ? NULL : lfs_node_at(slot_plus_one - 1);
}

/* The word that replaces `old`: names slot_plus_one (0: null), old's tag + 1. */
static inline lfs_word_t lfs_tag_bump(lfs_word_t old, uint32_t slot_plus_one, lfs_word_t tag_mask)
{
    return lfs_ref_pack(slot_plus_one, (uint32_t)((lfs_ref_tag(old) + 1) & tag_mask));
}

#endif
