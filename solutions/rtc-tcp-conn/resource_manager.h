/* SPDX-License-Identifier: MIT */
/*
 * A resource manager, modelled on SRS's SrsResourceManager as _srs_rtc_manager uses it: it holds the RTC
 * sessions, finds one by its ICE username (find_by_name), holds the executors that run sessions and
 * connections, and frees what is removed later, at its own cycle, never in the middle of the code that
 * removes it.
 *
 * A resource is any object made by sptr_new() (harness/toolbox/sptr.h). The manager holds one counted
 * reference to each resource it was given. remove() marks a resource as a zombie: it is no longer found,
 * and dispose(), which the event loop runs after every round, releases the manager's reference to every
 * zombie. Removing twice, or removing what the manager does not hold, changes nothing.
 *
 * This file is correct: the kata's bug is elsewhere.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define RESOURCE_NAME_MAX 64 /* longest name + 1 */

struct resource_manager;

/* Returns a new, empty manager (transfer full: free it with resource_manager_free()), or NULL. */
struct resource_manager *resource_manager_new(void);

/* Releases every resource the manager still holds, zombies included, in the order they were added.
 * Accepts NULL. Returns NULL. */
struct resource_manager *resource_manager_free(struct resource_manager *manager);

/* Adds resource: the manager takes a reference of its own (transfer none). Adding a resource the manager
 * holds already changes nothing. 0, or -ENOMEM. */
int resource_manager_add(struct resource_manager *manager, void *resource);

/* The same, and resource is found by name (copied: 1 to RESOURCE_NAME_MAX - 1 characters) until it is
 * removed. 0; -EINVAL for a name that is empty or too long; -EEXIST when a live resource has that name;
 * -ENOMEM. A resource the manager holds already keeps the name it has (or has none). */
int resource_manager_add_with_name(struct resource_manager *manager, const char *name, void *resource);

/* The live resource of that name (transfer none), or NULL. */
void *resource_manager_find_by_name(const struct resource_manager *manager, const char *name);

/* Makes resource a zombie: not found any more, released at the next dispose. */
void resource_manager_remove(struct resource_manager *manager, void *resource);

/* The manager's cycle: releases its reference to every zombie, in the order they were added. A destroy
 * function may remove more resources meanwhile: they wait for the next dispose. */
void resource_manager_dispose(struct resource_manager *manager);

/* How many resources the manager holds, zombies included; and how many of them are zombies. */
size_t resource_manager_size(const struct resource_manager *manager);
size_t resource_manager_zombies(const struct resource_manager *manager);
