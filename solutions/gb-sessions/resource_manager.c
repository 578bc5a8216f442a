/* SPDX-License-Identifier: MIT */
#include "resource_manager.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sptr.h"

struct entry {
        void *resource; /* +1: the manager's reference */
        char id[RESOURCE_ID_MAX]; /* "" when not added with an id */
        uint64_t fast_id;
        bool has_fast_id;
        bool zombie;
};

struct resource_manager {
        struct entry *entries;
        size_t n_entries, capacity;
        void **zombies;   /* transfer none: the references are the entries'; room for `capacity` */
        size_t n_zombies;
};

struct resource_manager *resource_manager_new(void)
{
        return calloc(1, sizeof(struct resource_manager));
}

static struct entry *entry_of(const struct resource_manager *manager, const void *resource)
{
        for (size_t i = 0; i < manager->n_entries; i++)
                if (manager->entries[i].resource == resource)
                        return &manager->entries[i];
        return NULL;
}

/* Grows both arrays together, so that remove() always has room for one more zombie and never fails. */
static int reserve_one_more(struct resource_manager *manager)
{
        size_t capacity = manager->capacity ? 2 * manager->capacity : 8;
        struct entry *entries;
        void **zombies;

        if (manager->n_entries < manager->capacity)
                return 0;
        entries = realloc(manager->entries, capacity * sizeof *entries);
        if (!entries)
                return -ENOMEM;
        manager->entries = entries;
        zombies = realloc(manager->zombies, capacity * sizeof *zombies);
        if (!zombies)
                return -ENOMEM;
        manager->zombies = zombies;
        manager->capacity = capacity;
        return 0;
}

static struct entry *add_entry(struct resource_manager *manager, void *resource)
{
        struct entry *entry = entry_of(manager, resource);

        if (entry)
                return entry;
        if (reserve_one_more(manager) < 0)
                return NULL;
        entry = &manager->entries[manager->n_entries++];
        *entry = (struct entry){ .resource = sptr_ref(resource) };
        return entry;
}

int resource_manager_add(struct resource_manager *manager, void *resource)
{
        return add_entry(manager, resource) ? 0 : -ENOMEM;
}

int resource_manager_add_with_id(struct resource_manager *manager, const char *id, void *resource)
{
        struct entry *entry;

        if (!id[0] || strlen(id) >= RESOURCE_ID_MAX)
                return -EINVAL;
        entry = add_entry(manager, resource);
        if (!entry)
                return -ENOMEM;
        strcpy(entry->id, id);
        return 0;
}

int resource_manager_add_with_fast_id(struct resource_manager *manager, uint64_t fast_id, void *resource)
{
        struct entry *entry = add_entry(manager, resource);

        if (!entry)
                return -ENOMEM;
        entry->fast_id = fast_id;
        entry->has_fast_id = true;
        return 0;
}

void *resource_manager_find_by_id(const struct resource_manager *manager, const char *id)
{
        for (size_t i = 0; i < manager->n_entries; i++) {
                const struct entry *entry = &manager->entries[i];

                if (!entry->zombie && entry->id[0] && strcmp(entry->id, id) == 0)
                        return entry->resource;
        }
        return NULL;
}

void *resource_manager_find_by_fast_id(const struct resource_manager *manager, uint64_t fast_id)
{
        for (size_t i = 0; i < manager->n_entries; i++) {
                const struct entry *entry = &manager->entries[i];

                if (!entry->zombie && entry->has_fast_id && entry->fast_id == fast_id)
                        return entry->resource;
        }
        return NULL;
}

void resource_manager_remove(struct resource_manager *manager, void *resource)
{
        struct entry *entry = entry_of(manager, resource);

        /* Not held (never added, or disposed of already), or queued already: once is enough. */
        if (!entry || entry->zombie)
                return;
        entry->zombie = true;
        manager->zombies[manager->n_zombies++] = resource;
}

/* Forgets the entry of a zombie (every zombie has one) and returns the manager's reference to it
 * (transfer full). */
static void *forget(struct resource_manager *manager, void *zombie)
{
        size_t i = 0;

        while (manager->entries[i].resource != zombie)
                i++;
        memmove(&manager->entries[i], &manager->entries[i + 1], (manager->n_entries - i - 1) * sizeof *manager->entries);
        manager->n_entries--;
        return zombie;
}

void resource_manager_dispose(struct resource_manager *manager)
{
        size_t batch = manager->n_zombies;

        if (batch == 0)
                return;
        /* Only the zombies queued so far: a destroy function below may remove more, which remove() appends
         * after them (there is room: every zombie is an entry) and which wait for the next round. */
        for (size_t i = 0; i < batch; i++) {
                void *resource = forget(manager, manager->zombies[i]);

                resource = sptr_unref(resource);
        }
        manager->n_zombies -= batch;
        memmove(manager->zombies, manager->zombies + batch, manager->n_zombies * sizeof *manager->zombies);
}

size_t resource_manager_size(const struct resource_manager *manager)
{
        return manager->n_entries;
}

size_t resource_manager_zombies(const struct resource_manager *manager)
{
        return manager->n_zombies;
}

struct resource_manager *resource_manager_free(struct resource_manager *manager)
{
        struct entry *entries;
        size_t n;

        if (!manager)
                return NULL;
        /* Empty the manager before releasing anything, so that a destroy function that calls remove()
         * finds nothing to queue. */
        entries = manager->entries;
        n = manager->n_entries;
        manager->entries = NULL;
        manager->n_entries = manager->n_zombies = 0;
        for (size_t i = 0; i < n; i++)
                entries[i].resource = sptr_unref(entries[i].resource);
        free(entries);
        free(manager->zombies);
        free(manager);
        return NULL;
}
