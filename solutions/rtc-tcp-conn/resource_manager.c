/* SPDX-License-Identifier: MIT */
#include "resource_manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sptr.h"

struct entry {
        void *resource; /* +1: the manager's reference */
        char name[RESOURCE_NAME_MAX]; /* "" when added without a name */
        bool zombie;
        bool releasing; /* a zombie the running dispose() releases */
};

struct resource_manager {
        struct entry *entries;
        size_t n_entries, capacity;
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

static int add(struct resource_manager *manager, const char *name, void *resource)
{
        struct entry *entry;

        if (entry_of(manager, resource))
                return 0;
        if (manager->n_entries == manager->capacity) {
                size_t capacity = manager->capacity ? 2 * manager->capacity : 16;
                struct entry *entries = reallocarray(manager->entries, capacity, sizeof *entries);

                if (!entries)
                        return -ENOMEM;
                manager->entries = entries;
                manager->capacity = capacity;
        }
        entry = &manager->entries[manager->n_entries++];
        *entry = (struct entry){ .resource = sptr_ref(resource) };
        strcpy(entry->name, name);
        return 0;
}

int resource_manager_add(struct resource_manager *manager, void *resource)
{
        return add(manager, "", resource);
}

int resource_manager_add_with_name(struct resource_manager *manager, const char *name, void *resource)
{
        if (!name[0] || strlen(name) >= RESOURCE_NAME_MAX)
                return -EINVAL;
        if (resource_manager_find_by_name(manager, name))
                return -EEXIST;
        return add(manager, name, resource);
}

void *resource_manager_find_by_name(const struct resource_manager *manager, const char *name)
{
        for (size_t i = 0; i < manager->n_entries; i++) {
                const struct entry *entry = &manager->entries[i];

                if (!entry->zombie && entry->name[0] && strcmp(entry->name, name) == 0)
                        return entry->resource;
        }
        return NULL;
}

void resource_manager_remove(struct resource_manager *manager, void *resource)
{
        struct entry *entry = entry_of(manager, resource);

        if (!entry || entry->zombie)
                return;
        entry->zombie = true;
        manager->n_zombies++;
}

void resource_manager_dispose(struct resource_manager *manager)
{
        /* Only the zombies there are now: mark them, then release them one by one. A destroy function may
         * add resources (at the end) or remove some (marked zombie, not marked for this round): the entries
         * before the one released stay where they are, so the scan goes on from there. */
        for (size_t i = 0; i < manager->n_entries; i++)
                manager->entries[i].releasing = manager->entries[i].zombie;
        for (size_t i = 0; i < manager->n_entries;) {
                void *resource = manager->entries[i].resource;

                if (!manager->entries[i].releasing) {
                        i++;
                        continue;
                }
                memmove(&manager->entries[i], &manager->entries[i + 1],
                        (manager->n_entries - i - 1) * sizeof *manager->entries);
                manager->n_entries--;
                manager->n_zombies--;
                resource = sptr_unref(resource);
        }
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
        /* Empty the manager before releasing anything: a destroy function that removes a resource then
         * finds nothing to do. */
        entries = manager->entries;
        n = manager->n_entries;
        manager->entries = NULL;
        manager->n_entries = manager->capacity = manager->n_zombies = 0;
        for (size_t i = 0; i < n; i++)
                entries[i].resource = sptr_unref(entries[i].resource);
        free(entries);
        free(manager);
        return NULL;
}
