import { WrittenThroughAcks } from '../../src/temporal/credits-service';

describe('WrittenThroughAcks', () => {
  it('hands each workflow its keys once, in the order written', () => {
    const acks = new WrittenThroughAcks();
    acks.add('w1', ['a', 'b']);
    acks.add('w2', ['x']);
    acks.add('w1', ['c']);
    expect(acks.take('w1')).toEqual(['a', 'b', 'c']);
    expect(acks.take('w1')).toEqual([]);
    expect(acks.take('w2')).toEqual(['x']);
    expect(acks.size).toBe(0);
  });

  it('keeps the newest keys per workflow and forgets the least recently written workflows beyond its bounds', () => {
    const acks = new WrittenThroughAcks(3, 2);
    acks.add('w1', ['1', '2', '3', '4']);
    expect(acks.take('w1')).toEqual(['2', '3', '4']);
    acks.add('w1', ['a']);
    acks.add('w2', ['b']);
    acks.add('w1', ['c']); // w1 is now the most recently written
    acks.add('w3', ['d']); // over 2 workflows: w2 goes
    expect(acks.size).toBe(2);
    expect(acks.take('w2')).toEqual([]);
    expect(acks.take('w1')).toEqual(['a', 'c']);
    expect(acks.take('w3')).toEqual(['d']);
  });

  it('ignores an empty write', () => {
    const acks = new WrittenThroughAcks();
    acks.add('w1', []);
    expect(acks.size).toBe(0);
  });
});
