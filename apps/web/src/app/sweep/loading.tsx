export { Loading as default } from '@/components/Loading';
