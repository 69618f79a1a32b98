package store

import (
	"container/list"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Get implements Cache.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	v, ok := m.cache.get(key, m.now())
	return v, ok, nil
}

// Set implements Cache. The value is copied.
func (m *Memory) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.cache.set(key, value, ttl, m.now(), false)
	return nil
}

// SetNX implements Cache.
func (m *Memory) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return m.cache.set(key, value, ttl, m.now(), true), nil
}

// Delete implements Cache.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.cache.delete(func(k string) bool { return k == key }, key)
	return nil
}

// DeletePrefix implements Cache.
func (m *Memory) DeletePrefix(ctx context.Context, prefix string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.cache.delete(func(k string) bool { return strings.HasPrefix(k, prefix) }, "")
	return nil
}

// lruCache is a cache bounded by entry count, least recently used first
// out, with per-entry expiry.
type lruCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // of *cacheEntry, most recently used at the front
	entries map[string]*list.Element
}

type cacheEntry struct {
	key      string
	value    []byte
	expireAt time.Time // zero: never
}

func (e *cacheEntry) expired(now time.Time) bool {
	return !e.expireAt.IsZero() && !now.Before(e.expireAt)
}

func newLRUCache(max int) *lruCache {
	return &lruCache{max: max, order: list.New(), entries: map[string]*list.Element{}}
}

// get copies the value outside the lock: an entry's value is never changed
// in place (set replaces the entry).
func (c *lruCache) get(key string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	el, ok := c.entries[key]
	if !ok {
		c.mu.Unlock()
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if e.expired(now) {
		c.remove(el)
		c.mu.Unlock()
		return nil, false
	}
	if c.order.Front() != el {
		c.order.MoveToFront(el)
	}
	c.mu.Unlock()
	return slices.Clone(e.value), true
}

// set stores value unless onlyNew and a live entry exists; it reports
// whether it stored.
func (c *lruCache) set(key string, value []byte, ttl time.Duration, now time.Time, onlyNew bool) bool {
	e := &cacheEntry{key: key, value: slices.Clone(value)}
	if e.value == nil {
		e.value = []byte{}
	}
	if ttl > 0 {
		e.expireAt = now.Add(ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		if onlyNew && !el.Value.(*cacheEntry).expired(now) {
			return false
		}
		el.Value = e
		c.order.MoveToFront(el)
		return true
	}
	c.entries[key] = c.order.PushFront(e)
	c.evict(now)
	return true
}

// evict drops expired entries from the cold end, then the least recently
// used ones beyond the bound.
func (c *lruCache) evict(now time.Time) {
	for el := c.order.Back(); el != nil && el.Value.(*cacheEntry).expired(now); el = c.order.Back() {
		c.remove(el)
	}
	for c.order.Len() > c.max {
		c.remove(c.order.Back())
	}
}

// delete removes the entries match selects; exact, when not empty, is the
// only key match can select, looked up directly.
func (c *lruCache) delete(match func(string) bool, exact string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exact != "" {
		if el, ok := c.entries[exact]; ok {
			c.remove(el)
		}
		return
	}
	for k, el := range c.entries {
		if match(k) {
			c.remove(el)
		}
	}
}

func (c *lruCache) remove(el *list.Element) {
	c.order.Remove(el)
	delete(c.entries, el.Value.(*cacheEntry).key)
}

// kvmMaps holds the key value maps.
type kvmMaps struct {
	mu   sync.RWMutex
	maps map[string]map[string]string
}

// KVMGet implements KVM.
func (m *Memory) KVMGet(ctx context.Context, mapID, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	m.kvm.mu.RLock()
	defer m.kvm.mu.RUnlock()
	v, ok := m.kvm.maps[mapID][key]
	return v, ok, nil
}

// KVMPut implements KVM.
func (m *Memory) KVMPut(ctx context.Context, mapID, key, value string, override bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.kvm.mu.Lock()
	defer m.kvm.mu.Unlock()
	entries := m.kvm.maps[mapID]
	if entries == nil {
		entries = map[string]string{}
		m.kvm.maps[mapID] = entries
	}
	if _, exists := entries[key]; exists && !override {
		return false, nil
	}
	entries[key] = value
	return true, nil
}

// KVMDelete implements KVM.
func (m *Memory) KVMDelete(ctx context.Context, mapID, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.kvm.mu.Lock()
	defer m.kvm.mu.Unlock()
	if entries := m.kvm.maps[mapID]; entries != nil {
		delete(entries, key)
		if len(entries) == 0 {
			delete(m.kvm.maps, mapID)
		}
	}
	return nil
}

// KVMKeys implements KVM.
func (m *Memory) KVMKeys(ctx context.Context, mapID string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.kvm.mu.RLock()
	defer m.kvm.mu.RUnlock()
	keys := make([]string, 0, len(m.kvm.maps[mapID]))
	for k := range m.kvm.maps[mapID] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}
