/**
 * Topic subscriptions per connection. A notification published on a topic reaches only the connections that
 * subscribed to it (`daemon/subscribe`), so a client never pays for traffic it did not ask for.
 */
import type { NotificationMethod, NotificationParamsOf } from '../protocol/index.js';
import type { Connection, EventHub } from './registry.js';

export class TopicHub implements EventHub {
  private readonly subscribers = new Map<string, Set<Connection>>();

  add(topic: string, conn: Connection): void {
    let set = this.subscribers.get(topic);
    if (!set) this.subscribers.set(topic, (set = new Set()));
    set.add(conn);
  }

  remove(topic: string, conn: Connection): void {
    const set = this.subscribers.get(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.subscribers.delete(topic);
  }

  publish<N extends NotificationMethod>(topic: string, method: N, params: NotificationParamsOf<N>): void {
    const set = this.subscribers.get(topic);
    if (!set) return;
    for (const conn of set) conn.notify(method, params);
  }

  /** Number of topics with at least one subscriber (for metrics and leak checks). */
  get topicCount(): number {
    return this.subscribers.size;
  }
}
