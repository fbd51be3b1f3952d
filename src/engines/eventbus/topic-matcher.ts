/**
 * AMQP topic matching, as a RabbitMQ topic exchange does it, so the in-process bus and RabbitMQ route
 * alike: words are separated by ".", "*" matches exactly one word, "#" zero or more words.
 */
export function topicMatcher(pattern: string): (topic: string) => boolean {
  const p = pattern.split('.');
  const match = (t: string[], i: number, j: number): boolean => {
    if (i === p.length) return j === t.length;
    if (p[i] === '#') {
      for (let k = j; k <= t.length; k++) if (match(t, i + 1, k)) return true;
      return false;
    }
    return j < t.length && (p[i] === '*' || p[i] === t[j]) && match(t, i + 1, j + 1);
  };
  return (topic) => match(topic.split('.'), 0, 0);
}
