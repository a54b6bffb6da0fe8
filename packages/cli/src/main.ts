export async function main(_argv: string[]): Promise<number> {
  console.log('alirefund: under construction');
  return 0;
}
