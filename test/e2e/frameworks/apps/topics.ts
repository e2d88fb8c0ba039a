// Topics and page size the three apps render (the specs publish into them).
export const TOPICS = { live: 'room', infinite: 'chat', paginated: 'log' };
export const PAGE_SIZE = 5;
