/* SPDX-License-Identifier: MIT */
/*
 * A resource manager, modelled on SRS's SrsResourceManager (the _srs_gb_manager of GB28181): it holds every
 * running connection and session, finds them by id (a device id) or fast id (an SSRC), and frees the ones
 * that are done.
 *
 * A resource is any object made by sptr_new_of() (harness/toolbox/sptr.h). The manager holds one counted
 * reference to each resource it was given. remove() does not free: it queues the resource as a zombie, and
 * dispose(), the manager's own cycle (the event loop runs it after every round), forgets the zombies and
 * releases the manager's references. So a resource is never freed in the middle of the code that removes it,
 * and never released twice, however often it is removed.
 *
 * This file is correct: the kata's leak is elsewhere.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RESOURCE_ID_MAX 64 /* longest id + 1 */

struct resource_manager;

/* Returns a new, empty manager (transfer full: free it with resource_manager_free()), or NULL. */
struct resource_manager *resource_manager_new(void);

/* Releases every resource the manager still holds, zombies included. Accepts NULL. Returns NULL. */
struct resource_manager *resource_manager_free(struct resource_manager *manager);

/*
 * Adds resource: the manager takes a reference of its own (the caller keeps its own: transfer none).
 * Adding a resource the manager holds already changes nothing. 0, or -ENOMEM.
 */
int resource_manager_add(struct resource_manager *manager, void *resource);

/* Adds resource if needed, then makes it findable by id (copied; 1 to RESOURCE_ID_MAX - 1 characters).
 * 0, -EINVAL for an empty or longer id, or -ENOMEM. */
int resource_manager_add_with_id(struct resource_manager *manager, const char *id, void *resource);

/* Adds resource if needed, then makes it findable by fast_id (an SSRC). 0, or -ENOMEM. */
int resource_manager_add_with_fast_id(struct resource_manager *manager, uint64_t fast_id, void *resource);

/* The resource with that id or fast id (transfer none), or NULL. A removed resource is not found: it is on
 * its way out. */
void *resource_manager_find_by_id(const struct resource_manager *manager, const char *id);
void *resource_manager_find_by_fast_id(const struct resource_manager *manager, uint64_t fast_id);

/*
 * Queues resource as a zombie: it is no longer found, and the next resource_manager_dispose() releases the
 * manager's reference to it. Removing it again, or removing a resource the manager does not hold, changes
 * nothing.
 */
void resource_manager_remove(struct resource_manager *manager, void *resource);

/* The manager's cycle: forgets every zombie queued so far and releases its reference to each. Zombies
 * queued meanwhile (by a destroy function) wait for the next call. */
void resource_manager_dispose(struct resource_manager *manager);

/* How many resources the manager holds, zombies included; and how many of them are zombies. */
size_t resource_manager_size(const struct resource_manager *manager);
size_t resource_manager_zombies(const struct resource_manager *manager);
